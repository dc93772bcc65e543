import { invalidArgument } from './errors.js';

export interface TextLimits {
  /** Most texts per call. */
  maxTexts: number;
  /** Longest text, in UTF-8 bytes. */
  maxTextBytes: number;
}

/**
 * Refuses (INVALID_ARGUMENT) a list of texts that is empty, longer than `maxTexts`, or holds a text over
 * `maxTextBytes` of UTF-8, naming its index: the same words at every service that takes texts.
 */
export function checkTextLimits(texts: readonly string[], limits: TextLimits): void {
  const count = texts.length;
  if (count === 0) throw invalidArgument('texts is empty; send at least one text');
  if (count > limits.maxTexts) throw invalidArgument(`texts has ${count} entries; the limit is ${limits.maxTexts}`);
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so most texts need no byte count at all.
  const surelyFits = Math.floor(limits.maxTextBytes / 3);
  for (let index = 0; index < count; index++) {
    const text = texts[index]!;
    if (text.length <= surelyFits) continue;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.maxTextBytes) throw invalidArgument(`texts[${index}] is ${bytes} bytes; the limit is ${limits.maxTextBytes}`);
  }
}

/**
 * The largest request message that can carry texts within `limits` (each text: its bytes plus a tag and a
 * length prefix), plus room for the other fields: the receive limit of a method that takes texts.
 */
export function textsRequestBytes(limits: TextLimits, overheadBytes = 64 * 1024): number {
  return limits.maxTexts * (limits.maxTextBytes + 6) + overheadBytes;
}
