import { SeededRandom } from '../random.js';
import { createOptimizer, type OptimizerSpec, type ParameterUpdate } from './optimizers.js';
import {
  backwardSentiment,
  createSentimentGradients,
  forwardSentiment,
  initSentimentWeights,
  type IdBatch,
  type SentimentModelConfig,
  type SentimentWeights,
} from './sentiment-model.js';

/** Padded ids with their 0/1 labels. */
export interface LabelledIds extends IdBatch {
  labels: Uint8Array;
}

export interface TrainingOptions {
  config: SentimentModelConfig;
  train: LabelledIds;
  /** Evaluated after each epoch and printed as val_loss / val_accuracy, as Keras does. */
  validation?: LabelledIds;
  epochs: number;
  /** Ignored by the full-batch `gd` optimizer. */
  batchSize: number;
  optimizer: OptimizerSpec;
  /** Per-class loss weights [negative, positive], or 'balanced' (n / (2 · count of the class)). */
  classWeight?: readonly [number, number] | 'balanced';
  /** Seeds weight initialisation and the per-epoch shuffle. */
  seed: number;
  /** Receives one progress line per epoch. */
  log?: (line: string) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
}

export interface TrainingResult {
  weights: SentimentWeights;
  history: EpochRecord[];
  classWeight: readonly [number, number];
  seconds: number;
}

function resolveClassWeight(spec: TrainingOptions['classWeight'], labels: Uint8Array): readonly [number, number] {
  if (spec === undefined) return [1, 1];
  if (spec !== 'balanced') return spec;
  let positives = 0;
  for (const y of labels) positives += y;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return [1, 1];
  return [labels.length / (2 * negatives), labels.length / (2 * positives)];
}

/** Unweighted mean binary cross-entropy and accuracy of the model on a labelled set. */
export function evaluateLoss(weights: SentimentWeights, config: SentimentModelConfig, data: LabelledIds): { loss: number; accuracy: number } {
  const { probabilities } = forwardSentiment(weights, config, data);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < data.count; i++) {
    const y = data.labels[i]!;
    const p = Math.min(Math.max(probabilities[i]!, 1e-7), 1 - 1e-7);
    loss -= y === 1 ? Math.log(p) : Math.log(1 - p);
    if ((probabilities[i]! >= 0.5 ? 1 : 0) === y) correct++;
  }
  return { loss: loss / data.count, accuracy: correct / data.count };
}

/**
 * Trains the sentiment classifier with hand-written forward/backward passes. Deterministic: the
 * seed fixes initial weights and the shuffle order, and all arithmetic is single-threaded.
 */
export function trainSentiment(options: TrainingOptions): TrainingResult {
  const { config, train, epochs, seed } = options;
  const log = options.log ?? (() => {});
  if (train.labels.length !== train.count) throw new Error('train.labels must have one label per row');
  if (train.ids.length !== train.count * config.sequenceLength) {
    throw new Error(`train.ids must hold count × ${config.sequenceLength} ids`);
  }
  const weights = initSentimentWeights(config, seed);
  const optimizer = createOptimizer(options.optimizer);
  const classWeight = resolveClassWeight(options.classWeight, train.labels);
  const grads = createSentimentGradients(config);
  // A separate stream for shuffling, so that changing epochs does not change initial weights.
  const shuffleRng = new SeededRandom(seed ^ 0x5eed5eed);
  const batchSize = optimizer.kind === 'gd' ? train.count : Math.max(1, Math.min(options.batchSize, train.count));
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const params: ParameterUpdate[] = [
    {
      name: 'embedding',
      value: weights.embedding,
      grad: grads.embedding,
      sparseRows: { rows: grads.embeddingRows, count: 0, rowWidth: config.embeddingDim },
    },
    { name: 'dense1Kernel', value: weights.dense1Kernel, grad: grads.dense1Kernel },
    { name: 'dense1Bias', value: weights.dense1Bias, grad: grads.dense1Bias },
    { name: 'dense2Kernel', value: weights.dense2Kernel, grad: grads.dense2Kernel },
    { name: 'dense2Bias', value: weights.dense2Bias, grad: grads.dense2Bias },
  ];
  const embeddingRows = params[0]!.sparseRows!;
  const history: EpochRecord[] = [];
  const started = performance.now();
  const width = String(epochs).length;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    if (optimizer.kind !== 'gd') shuffleRng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < train.count; start += batchSize) {
      const rows = order.subarray(start, Math.min(start + batchSize, train.count));
      const result = backwardSentiment({ weights, config, data: train, labels: train.labels, rows, grads, classWeight });
      embeddingRows.count = grads.embeddingRowCount;
      optimizer.step(params);
      // Keras reports the running mean of batch losses, weighted by batch size.
      lossSum += result.loss * rows.length;
      correct += result.correct;
    }
    const record: EpochRecord = {
      epoch,
      loss: lossSum / train.count,
      accuracy: correct / train.count,
      seconds: (performance.now() - epochStart) / 1000,
    };
    let line = `epoch ${String(epoch).padStart(width)}/${epochs}  loss ${record.loss.toFixed(4)}  accuracy ${record.accuracy.toFixed(4)}`;
    if (options.validation) {
      const v = evaluateLoss(weights, config, options.validation);
      record.valLoss = v.loss;
      record.valAccuracy = v.accuracy;
      line += `  val_loss ${v.loss.toFixed(4)}  val_accuracy ${v.accuracy.toFixed(4)}`;
    }
    record.seconds = (performance.now() - epochStart) / 1000;
    log(`${line}  (${record.seconds.toFixed(2)} s)`);
    history.push(record);
  }
  return { weights, history, classWeight, seconds: (performance.now() - started) / 1000 };
}
