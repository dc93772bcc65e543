import { readFile } from 'node:fs/promises';

/** One split of a text-classification data set. */
export interface TextDataset {
  texts: string[];
  labels: Uint8Array;
}

/** Parses JSON lines of `{"text": string, "label": 0|1}`; blank lines are skipped. */
export function parseJsonl(content: string, source = 'data'): TextDataset {
  const texts: string[] = [];
  const labels: number[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: { text?: unknown; label?: unknown };
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: not JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof row.text !== 'string') throw new Error(`${source}:${i + 1}: "text" must be a string`);
    if (row.label !== 0 && row.label !== 1) throw new Error(`${source}:${i + 1}: "label" must be 0 or 1`);
    texts.push(row.text);
    labels.push(row.label);
  });
  return { texts, labels: Uint8Array.from(labels) };
}

export async function readJsonl(path: string): Promise<TextDataset> {
  return parseJsonl(await readFile(path, 'utf8'), path);
}
