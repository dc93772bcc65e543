import { pythonLower } from './python-lower.js';
import { type JsonObject, type JsonValue, type ParsedJson, pyJsonDumps, pyJsonLoads } from './python-json.js';
import { DEFAULT_FILTERS, WordSplitter } from './text-to-word-sequence.js';

export interface KerasTokenizerOptions {
  /** Keep only words with index < numWords when converting (null/0: keep all). Never shrinks wordIndex. */
  numWords?: number | null;
  filters?: string;
  lower?: boolean;
  split?: string;
  /** Every character (code point) is a token; filters and split are then not used. */
  charLevel?: boolean;
  /** Forced to index 1; unknown and cut words become it instead of being dropped. */
  oovToken?: string | null;
}

/** The config keys of Keras' Tokenizer.get_config(), in its order. */
const CONFIG_KEYS = ['num_words', 'filters', 'lower', 'split', 'char_level', 'oov_token', 'document_count'] as const;
/** The five config values that Keras stores as JSON text inside the JSON, in its order. */
const ENCODED_KEYS = ['word_counts', 'word_docs', 'index_docs', 'index_word', 'word_index'] as const;

interface TokenizerState {
  documentCount: number;
  wordCounts: Map<string, number>;
  wordDocs: Map<string, number>;
  indexDocs: Map<number, number>;
  wordIndex: Map<string, number>;
  indexWord: Map<number, string>;
}

/**
 * Keras 3's `Tokenizer` (keras.src.legacy.preprocessing.text): same vocabulary, same ids, same
 * to_json() bytes. Maps stand in for Python dicts: both keep insertion order, and updating an
 * existing key keeps its place, which is what makes the orders match.
 */
export class KerasTokenizer {
  readonly numWords: number | null;
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  readonly charLevel: boolean;
  readonly oovToken: string | null;
  private readonly splitter: WordSplitter | null;
  private state: TokenizerState = {
    documentCount: 0,
    wordCounts: new Map(),
    wordDocs: new Map(),
    indexDocs: new Map(),
    wordIndex: new Map(),
    indexWord: new Map(),
  };

  constructor(options: KerasTokenizerOptions = {}) {
    const numWords = options.numWords ?? null;
    if (numWords !== null && !(Number.isSafeInteger(numWords) && numWords >= 0)) {
      throw new RangeError(`numWords must be a non-negative integer or null, got ${numWords}`);
    }
    this.numWords = numWords;
    this.filters = options.filters ?? DEFAULT_FILTERS;
    this.lower = options.lower ?? true;
    this.split = options.split ?? ' ';
    this.charLevel = options.charLevel ?? false;
    this.oovToken = options.oovToken ?? null;
    this.splitter = this.charLevel ? null : new WordSplitter({ filters: this.filters, lower: this.lower, split: this.split });
  }

  /** Number of texts seen by fitOnTexts (kept through to_json). */
  get documentCount(): number {
    return this.state.documentCount;
  }
  /** word → index, 1-based, most frequent first (ties in first-seen order); every word seen. */
  get wordIndex(): ReadonlyMap<string, number> {
    return this.state.wordIndex;
  }
  get indexWord(): ReadonlyMap<number, string> {
    return this.state.indexWord;
  }
  /** word → occurrences, in first-seen order. */
  get wordCounts(): ReadonlyMap<string, number> {
    return this.state.wordCounts;
  }
  /** word → number of documents containing it (first-seen order; Keras' own order depends on PYTHONHASHSEED). */
  get wordDocs(): ReadonlyMap<string, number> {
    return this.state.wordDocs;
  }
  get indexDocs(): ReadonlyMap<number, number> {
    return this.state.indexDocs;
  }

  /** Calls `visit` with each token of `text` as this tokenizer sees it. */
  private forEachToken(text: string, visit: (token: string) => void): void {
    if (this.splitter !== null) {
      this.splitter.forEachWord(text, visit);
      return;
    }
    // char_level: the (lowercased) text itself is the sequence, one token per code point.
    for (const ch of this.lower ? pythonLower(text) : text) visit(ch);
  }

  /** The tokens of `text` (words, or characters with charLevel), before any index lookup. */
  tokensOf(text: string): string[] {
    const out: string[] = [];
    this.forEachToken(text, (token) => out.push(token));
    return out;
  }

  /** Keras' fit_on_texts: adds to the counts (repeated calls accumulate) and rebuilds the index. */
  fitOnTexts(texts: readonly string[]): void {
    const { wordCounts, wordDocs, indexDocs } = this.state;
    for (const text of texts) {
      this.state.documentCount++;
      const seq = this.tokensOf(text);
      for (const w of seq) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      for (const w of new Set(seq)) wordDocs.set(w, (wordDocs.get(w) ?? 0) + 1);
    }
    // Array.prototype.sort is stable, as Python's sort(reverse=True) is: equal counts keep first-seen order.
    const byCount = [...wordCounts].sort((a, b) => b[1] - a[1]);
    const vocabulary = this.oovToken === null ? [] : [this.oovToken];
    for (const [word] of byCount) vocabulary.push(word);
    // dict(zip(sorted_voc, range(1, ...))): an oov token that is also a word keeps its first
    // place but takes the later index, exactly as Map.set does.
    const wordIndex = new Map<string, number>();
    vocabulary.forEach((word, i) => wordIndex.set(word, i + 1));
    const indexWord = new Map<number, string>();
    for (const [word, index] of wordIndex) indexWord.set(index, word);
    // Keras never clears index_docs, it only overwrites: keep the same Map.
    for (const [word, docs] of wordDocs) indexDocs.set(wordIndex.get(word)!, docs);
    this.state.wordIndex = wordIndex;
    this.state.indexWord = indexWord;
  }

  /**
   * Keras' texts_to_sequences for one text: the index of each token; with no oovToken, unknown
   * words and words with index >= numWords are dropped, otherwise they become the oov index.
   */
  textToSequence(text: string): number[] {
    const out: number[] = [];
    const wordIndex = this.state.wordIndex;
    const numWords = this.numWords;
    const oovToken = this.oovToken;
    const oovIndex = oovToken === null ? undefined : wordIndex.get(oovToken);
    this.forEachToken(text, (token) => {
      const index = wordIndex.get(token);
      if (index !== undefined && !(numWords && index >= numWords)) {
        out.push(index);
      } else if (oovToken !== null) {
        // Keras would emit None here (and fail later); say why instead.
        if (oovIndex === undefined) throw new Error(`oovToken ${JSON.stringify(oovToken)} is not in wordIndex (tokenizer not fitted?)`);
        out.push(oovIndex);
      }
    });
    return out;
  }

  textsToSequences(texts: readonly string[]): number[][] {
    return texts.map((text) => this.textToSequence(text));
  }

  /** Keras' sequences_to_texts: ids back to words joined by ' ' ('' with charLevel); unknown ids dropped or oov. */
  sequencesToTexts(sequences: readonly (readonly number[])[]): string[] {
    const { wordIndex, indexWord } = this.state;
    const numWords = this.numWords;
    const oovIndex = this.oovToken === null ? undefined : wordIndex.get(this.oovToken);
    const oovWord = oovIndex === undefined ? undefined : indexWord.get(oovIndex);
    return sequences.map((seq) => {
      const words: string[] = [];
      for (const id of seq) {
        const word = indexWord.get(id);
        if (word !== undefined && !(numWords && id >= numWords)) words.push(word);
        else if (oovWord !== undefined) words.push(oovWord);
      }
      return words.join(this.charLevel ? '' : ' ');
    });
  }

  /**
   * Byte for byte Keras' `to_json()`: json.dumps defaults (", " / ": ", ensure_ascii), config in
   * get_config() order, the five dicts as JSON strings inside the JSON.
   */
  toJson(): string {
    const s = this.state;
    const config = new Map<string, JsonValue>([
      ['num_words', this.numWords],
      ['filters', this.filters],
      ['lower', this.lower],
      ['split', this.split],
      ['char_level', this.charLevel],
      ['oov_token', this.oovToken],
      ['document_count', s.documentCount],
      ['word_counts', pyJsonDumps(s.wordCounts)],
      ['word_docs', pyJsonDumps(s.wordDocs)],
      ['index_docs', pyJsonDumps(s.indexDocs)],
      ['index_word', pyJsonDumps(s.indexWord)],
      ['word_index', pyJsonDumps(s.wordIndex)],
    ]);
    return pyJsonDumps(
      new Map<string, JsonValue>([
        ['class_name', 'Tokenizer'],
        ['config', config],
      ]),
    );
  }

  /** Keras' `tokenizer_from_json()`: reads to_json() output (or a file written by Keras). */
  static fromJson(json: string): KerasTokenizer {
    const root = pyJsonLoads(json);
    if (!(root instanceof Map)) throw new TypeError('tokenizer JSON: expected an object');
    const config = root.get('config');
    if (!(config instanceof Map)) throw new TypeError('tokenizer JSON: expected an object at "config"');
    for (const key of config.keys()) {
      if (!(CONFIG_KEYS as readonly string[]).includes(key) && !(ENCODED_KEYS as readonly string[]).includes(key) && key !== 'nb_words') {
        // Tokenizer(**config) raises on unknown keyword arguments too.
        throw new TypeError(`tokenizer JSON: unrecognized config key "${key}"`);
      }
    }
    const numWords = config.has('nb_words') ? config.get('nb_words') : config.get('num_words');
    const tokenizer = new KerasTokenizer({
      numWords: optional(numWords, 'num_words', isCount),
      filters: present(config.get('filters'), 'filters', isString),
      lower: present(config.get('lower'), 'lower', isBoolean),
      split: present(config.get('split'), 'split', isString),
      charLevel: present(config.get('char_level'), 'char_level', isBoolean),
      oovToken: optional(config.get('oov_token'), 'oov_token', isString),
    });
    const wordIndex = entries<string, number>(config, 'word_index', isString, isInteger);
    tokenizer.state = {
      documentCount: optional(config.get('document_count'), 'document_count', isCount) ?? 0,
      wordCounts: entries<string, number>(config, 'word_counts', isString, isNumber),
      wordDocs: entries<string, number>(config, 'word_docs', isString, isNumber),
      indexDocs: entries(config, 'index_docs', isIntKey, isNumber, Number),
      indexWord: entries(config, 'index_word', isIntKey, isString, Number),
      wordIndex,
    };
    return tokenizer;
  }
}

type Guard<T extends ParsedJson> = ((value: ParsedJson) => value is T) & { what: string };

function guard<T extends ParsedJson>(what: string, test: (value: ParsedJson) => boolean): Guard<T> {
  return Object.assign((value: ParsedJson): value is T => test(value), { what });
}

const isString = guard<string>('a string', (v) => typeof v === 'string');
const isBoolean = guard<boolean>('a boolean', (v) => typeof v === 'boolean');
const isNumber = guard<number>('a number', (v) => typeof v === 'number');
const isInteger = guard<number>('an integer', (v) => Number.isSafeInteger(v));
const isCount = guard<number>('a non-negative integer', (v) => Number.isSafeInteger(v) && (v as number) >= 0);
/** Python's int(key) on the stringified int keys of index_docs / index_word. */
const isIntKey = guard<string>('an integer key', (v) => typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v));

/** A config value that may be null (num_words, oov_token) or absent (then the constructor default). */
function optional<T extends ParsedJson>(value: ParsedJson | undefined, key: string, is: Guard<T>): T | null | undefined {
  if (value === undefined || value === null) return value as undefined | null;
  if (!is(value)) throw new TypeError(`tokenizer JSON: config "${key}" must be ${is.what} or null`);
  return value;
}

/** A config value that may be absent (then the constructor default) but not null. */
function present<T extends ParsedJson>(value: ParsedJson | undefined, key: string, is: Guard<T>): T | undefined {
  if (value === undefined) return undefined;
  if (!is(value)) throw new TypeError(`tokenizer JSON: config "${key}" must be ${is.what}`);
  return value;
}

/** json.loads() of one of the five encoded config strings, checked and with its keys converted. */
function entries<K, V extends ParsedJson>(
  config: JsonObject,
  key: (typeof ENCODED_KEYS)[number],
  isKey: Guard<string>,
  isValue: Guard<V>,
  convertKey: (key: string) => K = (k) => k as K,
): Map<K, V> {
  const encoded = config.get(key);
  if (typeof encoded !== 'string') throw new TypeError(`tokenizer JSON: config "${key}" must be a JSON-encoded string`);
  let decoded: ParsedJson;
  try {
    decoded = pyJsonLoads(encoded);
  } catch (error) {
    throw new TypeError(`tokenizer JSON: config "${key}" is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!(decoded instanceof Map)) throw new TypeError(`tokenizer JSON: config "${key}" must encode an object`);
  const out = new Map<K, V>();
  for (const [k, v] of decoded) {
    if (!isKey(k)) throw new TypeError(`tokenizer JSON: "${key}" key ${JSON.stringify(k)} must be ${isKey.what}`);
    if (!isValue(v)) throw new TypeError(`tokenizer JSON: "${key}"[${JSON.stringify(k)}] must be ${isValue.what}`);
    out.set(convertKey(k), v);
  }
  return out;
}
