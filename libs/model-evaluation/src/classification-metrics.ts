/** Binary confusion matrix; "positive" is label 1. */
export interface ConfusionMatrix {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  confusion: ConfusionMatrix;
  count: number;
}

/** Counts a confusion matrix from true labels and predicted labels (both 0/1). */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>): ConfusionMatrix {
  if (labels.length !== predictions.length) throw new Error(`${labels.length} labels but ${predictions.length} predictions`);
  const m: ConfusionMatrix = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const p = predictions[i];
    if (p === 1) {
      if (y === 1) m.truePositives++;
      else m.falsePositives++;
    } else if (y === 1) m.falseNegatives++;
    else m.trueNegatives++;
  }
  return m;
}

/**
 * Accuracy, precision, recall and F1 of the positive class. A ratio whose denominator is zero
 * (no positive predictions, or no positive labels) is 0, as scikit-learn's `zero_division=0`.
 */
export function binaryMetrics(labels: ArrayLike<number>, predictions: ArrayLike<number>): BinaryMetrics {
  const confusion = confusionMatrix(labels, predictions);
  const { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = confusion;
  const count = tp + fp + tn + fn;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: count === 0 ? 0 : (tp + tn) / count, precision, recall, f1, confusion, count };
}

/** Labels from sigmoid scores: score ≥ threshold → 1. */
export function thresholdLabels(scores: ArrayLike<number>, threshold = 0.5): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! >= threshold ? 1 : 0;
  return out;
}

/** Share of positions where two label arrays agree. */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} labels with ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? 1 : same / a.length;
}

/** A multi-line, human-readable report. */
export function formatMetrics(title: string, m: BinaryMetrics, labelNames: readonly [string, string]): string {
  const c = m.confusion;
  const w = Math.max(8, ...labelNames.map((l) => l.length)) + 2;
  const cell = (v: number | string): string => String(v).padStart(w);
  return [
    `${title}: accuracy ${m.accuracy.toFixed(4)}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  f1 ${m.f1.toFixed(4)}  (n=${m.count})`,
    `  ${'true \\ predicted'.padEnd(18)}${cell(labelNames[0])}${cell(labelNames[1])}`,
    `  ${labelNames[0].padEnd(18)}${cell(c.trueNegatives)}${cell(c.falsePositives)}`,
    `  ${labelNames[1].padEnd(18)}${cell(c.falseNegatives)}${cell(c.truePositives)}`,
  ].join('\n');
}
