/**
 * A model package's labelled evaluation set (manifest field `evaluation_file`): JSON lines, each
 * `{"text": "...", "label": "<one of the manifest's labels>"}`; blank lines are skipped.
 */

export interface EvaluationSet {
  texts: string[];
  /** The expected label of each text, one of the manifest's labels. */
  labels: string[];
}

/** Parses an evaluation set; every problem names its line. `labels` are the manifest's labels. */
export function parseEvaluationSet(content: string, options: { labels: readonly string[]; source?: string }): EvaluationSet {
  const source = options.source ?? 'evaluation set';
  const allowed = new Set(options.labels);
  const texts: string[] = [];
  const labels: string[] = [];
  content.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let row: { text?: unknown; label?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch (error) {
      throw new Error(`${source}:${index + 1}: not JSON (${(error as Error).message})`, { cause: error });
    }
    if (typeof row.text !== 'string') throw new Error(`${source}:${index + 1}: "text" must be a string`);
    if (typeof row.label !== 'string' || !allowed.has(row.label)) {
      throw new Error(
        `${source}:${index + 1}: "label" must be one of ${[...allowed].map((label) => JSON.stringify(label)).join(', ')} (got ${JSON.stringify(row.label)})`,
      );
    }
    texts.push(row.text);
    labels.push(row.label);
  });
  if (texts.length === 0) throw new Error(`${source}: has no examples`);
  return { texts, labels };
}

/** Writes an evaluation set as JSON lines (what parseEvaluationSet reads). */
export function formatEvaluationSet(set: EvaluationSet): string {
  return set.texts.map((text, index) => `${JSON.stringify({ text, label: set.labels[index] })}\n`).join('');
}
