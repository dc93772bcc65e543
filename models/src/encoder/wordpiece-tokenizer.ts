/**
 * Builds a BERT-style WordPiece vocabulary from a corpus and writes it as a Hugging Face
 * `tokenizer.json` (BertNormalizer lowercase → BertPreTokenizer → WordPiece "##" → [CLS] $A [SEP]).
 *
 * The vocabulary is: the five special tokens, every character seen (alone and as a "##"
 * continuation, so no word made of known characters becomes [UNK]), the most frequent whole
 * words, and the most frequent "##" suffixes of words that did not make it as whole words
 * (counted where the rest of the word is itself in the vocabulary, e.g. "play" + "##ing").
 * Everything is ordered by count, then by code point, so the same corpus gives the same file.
 */

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD_ID = 0;
export const CONTINUING_PREFIX = '##';

// The punctuation class of BERT's basic tokenizer: Unicode punctuation plus every ASCII symbol.
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const PRE_TOKEN = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;

function isChineseCodePoint(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * What BertNormalizer (clean_text, handle_chinese_chars, lowercase, accents stripped) and
 * BertPreTokenizer make of a text: the words the WordPiece model sees. Used here only to count
 * words for the vocabulary; encoding itself is left to the tokenizer library that reads the file.
 */
export function bertPreTokenize(text: string): string[] {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch))) continue;
    if (/^\s$/u.test(ch)) cleaned += ' ';
    else if (isChineseCodePoint(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const normalized = cleaned
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
  return normalized.match(PRE_TOKEN) ?? [];
}

export interface WordPieceVocabOptions {
  texts: Iterable<string>;
  /** Total vocabulary size, special tokens and characters included. */
  maxVocabSize: number;
  /** A whole word needs at least this many occurrences. */
  minWordCount?: number;
  /** At most this many multi-character "##" suffix pieces. */
  maxSuffixPieces?: number;
  /** A suffix piece needs at least this many occurrences. */
  minSuffixCount?: number;
}

function byCountThenText(counts: Map<string, number>): string[] {
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

function increment(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/** Builds the vocabulary; the index of a token in the returned array is its id. */
export function buildWordPieceVocab(options: WordPieceVocabOptions): string[] {
  const minWordCount = options.minWordCount ?? 2;
  const maxSuffixPieces = options.maxSuffixPieces ?? 256;
  const minSuffixCount = options.minSuffixCount ?? 3;

  const wordCounts = new Map<string, number>();
  const charCounts = new Map<string, number>();
  for (const text of options.texts) {
    for (const word of bertPreTokenize(text)) {
      increment(wordCounts, word);
      for (const ch of word) increment(charCounts, ch);
    }
  }

  const vocab: string[] = [...SPECIAL_TOKENS];
  const taken = new Set<string>(vocab);
  const add = (token: string): void => {
    if (!taken.has(token) && vocab.length < options.maxVocabSize) {
      taken.add(token);
      vocab.push(token);
    }
  };
  const chars = byCountThenText(charCounts);
  if (SPECIAL_TOKENS.length + 2 * chars.length > options.maxVocabSize) {
    throw new Error(`maxVocabSize ${options.maxVocabSize} cannot hold the ${chars.length} characters of the corpus twice`);
  }
  for (const ch of chars) add(ch);
  for (const ch of chars) add(CONTINUING_PREFIX + ch);

  // Words take the budget left after reserving room for the suffix pieces.
  const wordBudget = options.maxVocabSize - vocab.length - maxSuffixPieces;
  const words = byCountThenText(wordCounts).filter((w) => [...w].length > 1 && wordCounts.get(w)! >= minWordCount);
  const wholeWords = new Set(words.slice(0, Math.max(0, wordBudget)));
  for (const w of words) if (wholeWords.has(w)) add(w);

  const suffixCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    if (wholeWords.has(word)) continue;
    const cps = [...word];
    // Suffixes of two or more characters whose stem is a vocabulary word.
    for (let k = 1; k <= cps.length - 2; k++) {
      if (wholeWords.has(cps.slice(0, k).join(''))) increment(suffixCounts, CONTINUING_PREFIX + cps.slice(k).join(''), count);
    }
  }
  const suffixes = byCountThenText(suffixCounts).filter((s) => suffixCounts.get(s)! >= minSuffixCount);
  for (const s of suffixes.slice(0, maxSuffixPieces)) add(s);
  return vocab;
}

/**
 * The Hugging Face `tokenizer.json` for a WordPiece vocabulary. Truncation and padding are left
 * null, as in most published BERT tokenizers: the package manifest states max_length and sides,
 * and the serving tokenizer applies them.
 */
export function wordPieceTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const id = (token: string): number => {
    const i = vocab.indexOf(token);
    if (i < 0) throw new Error(`vocabulary lacks ${token}`);
    return i;
  };
  const special = (token: string): { id: string; type_id: number } => ({ id: token, type_id: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: special('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: special('[SEP]') }],
      pair: [
        { SpecialToken: special('[CLS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: special('[SEP]') },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: CONTINUING_PREFIX, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: CONTINUING_PREFIX,
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, i) => [token, i])),
    },
  };
}
