import { KerasTokenizer } from '@maas/keras-tokenizer';
import { TokenizerFileError, type TextTokenizer } from './encoder.js';

/** A word no vocabulary has: encoding it at load shows an oov_token missing from word_index before a request does. */
const UNKNOWN_WORD_PROBE = 'zqxjmaasprobe';

/**
 * A Keras Tokenizer.to_json() file through @maas/keras-tokenizer. Keras adds no special tokens; padding and
 * truncation (Keras' pad_sequences semantics with the manifest's sides) happen in encodeBatch.
 */
export function kerasTokenizer(fileText: string): TextTokenizer {
  let tokenizer: KerasTokenizer;
  try {
    tokenizer = KerasTokenizer.fromJson(fileText);
    tokenizer.textToSequence(`probe ${UNKNOWN_WORD_PROBE}`);
  } catch (error) {
    throw new TokenizerFileError(`Keras tokenizer file cannot be loaded: ${(error as Error).message}`);
  }
  return { kind: 'keras', prefixIds: [], suffixIds: [], contentIds: (text) => tokenizer.textToSequence(text) };
}
