import { pythonLower } from './python-lower.js';

/**
 * Keras' default `filters`: all ASCII punctuation except the apostrophe, plus TAB and LF.
 * CR, NBSP and other whitespace are not in it, so they stay inside words.
 */
export const DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface WordSplitOptions {
  /** Characters replaced by `split` before splitting (default {@link DEFAULT_FILTERS}). */
  filters?: string;
  /** Lowercase first, with Python's str.lower() (default true). */
  lower?: boolean;
  /** The one separator string (default ' '); runs of it and ends produce no empty words. */
  split?: string;
}

/**
 * Keras' text_to_word_sequence() with its settings baked in: `text.lower()`, then
 * `str.translate` of every filter character to `split`, then `str.split(split)` with the empty
 * pieces dropped. Built once per tokenizer so that a text is split in one pass over its code
 * units with a table lookup per character.
 */
export class WordSplitter {
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  /** 1 for each ASCII code unit that ends a word (a filter character or the split character). */
  private readonly asciiSeparators = new Uint8Array(128);
  /** Non-ASCII BMP separators; null when there are none (the usual case). */
  private readonly otherSeparators: Set<number> | null;
  /** Only a one-code-unit split and BMP filters can be scanned code unit by code unit. */
  private readonly singleUnitScan: boolean;

  constructor(options: WordSplitOptions = {}) {
    this.filters = options.filters ?? DEFAULT_FILTERS;
    this.lower = options.lower ?? true;
    this.split = options.split ?? ' ';
    if (this.split === '') throw new RangeError('split must not be empty (Python: "empty separator")');
    const others = new Set<number>();
    let scannable = this.split.length === 1 && !isSurrogate(this.split.charCodeAt(0));
    for (const ch of this.filters + this.split) {
      const code = ch.codePointAt(0)!;
      if (code < 0x80) this.asciiSeparators[code] = 1;
      else if (code > 0xffff || isSurrogate(code)) scannable = false;
      else others.add(code);
    }
    this.otherSeparators = others.size > 0 ? others : null;
    this.singleUnitScan = scannable;
  }

  /** Calls `visit` with each word of `text`, in order. */
  forEachWord(text: string, visit: (word: string) => void): void {
    const s = this.lower ? pythonLower(text) : text;
    if (!this.singleUnitScan) {
      for (const word of this.translateAndSplit(s)) if (word !== '') visit(word);
      return;
    }
    const ascii = this.asciiSeparators;
    const others = this.otherSeparators;
    const n = s.length;
    let start = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80 ? ascii[c] === 1 : others !== null && others.has(c)) {
        if (i > start) visit(s.slice(start, i));
        start = i + 1;
      }
    }
    if (n > start) visit(start === 0 ? s : s.slice(start));
  }

  /** The words of `text` (Keras' text_to_word_sequence). */
  words(text: string): string[] {
    const out: string[] = [];
    this.forEachWord(text, (word) => out.push(word));
    return out;
  }

  /** The literal Python steps, for a multi-character split or astral filter characters. */
  private translateAndSplit(s: string): string[] {
    const filterSet = new Set(this.filters);
    let translated = '';
    for (const ch of s) translated += filterSet.has(ch) ? this.split : ch;
    // String.prototype.split with a string separator cuts the same non-overlapping
    // left-to-right pieces as Python's str.split(sep).
    return translated.split(this.split);
  }
}

function isSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdfff;
}

let defaultSplitter: WordSplitter | undefined;

/** Keras' `text_to_word_sequence(text, filters, lower, split)`. */
export function textToWordSequence(text: string, options?: WordSplitOptions): string[] {
  const isDefault =
    options === undefined ||
    ((options.filters === undefined || options.filters === DEFAULT_FILTERS) &&
      (options.lower === undefined || options.lower) &&
      (options.split === undefined || options.split === ' '));
  if (isDefault) return (defaultSplitter ??= new WordSplitter()).words(text);
  return new WordSplitter(options).words(text);
}
