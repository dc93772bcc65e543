import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Real review texts (the sentiment test split: 480 short English reviews, 18–100 characters): requests carry
 * text of the size and vocabulary the example models were made for, not one string repeated.
 */
export function benchTexts(rootDir: string): string[] {
  const file = path.join(rootDir, 'models', 'sentiment', 'data', 'test.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => String((JSON.parse(line) as { text: string }).text));
}

/** `count` texts starting at `offset`, wrapping around. */
export function textsAt(texts: readonly string[], offset: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => texts[(offset + index) % texts.length]!);
}
