import { TokenizerFileError, type TextTokenizer } from './encoder.js';
import { huggingfaceTokenizer } from './huggingface-encoder.js';
import { kerasTokenizer } from './keras-encoder.js';

/** Builds the tokenizer of one kind from its file's text (on the main thread at load, and in encode workers). */
export function tokenizerOfKind(kind: string, fileText: string): TextTokenizer {
  if (kind === 'keras') return kerasTokenizer(fileText);
  if (kind === 'huggingface') return huggingfaceTokenizer(fileText);
  throw new TokenizerFileError(`tokenizer kind ${JSON.stringify(kind)} is not supported (keras, huggingface)`);
}
