export { DEFAULT_FILTERS, textToWordSequence, WordSplitter, type WordSplitOptions } from './text-to-word-sequence.js';
export { KerasTokenizer, type KerasTokenizerOptions } from './keras-tokenizer.js';
export { padSequences, padSequencesToInt64, type PaddingSide, type PadOptions } from './pad-sequences.js';
export { pythonLower } from './python-lower.js';
export { PYTHON_UNICODE_VERSION } from './python-lower-data.js';
export { pyJsonDumps, pyJsonLoads, pyJsonString, PyJsonParseError, type JsonValue, type ParsedJson } from './python-json.js';
