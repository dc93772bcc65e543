import { KerasTokenizer, padSequences } from '@maas/keras-tokenizer';
import type { TextDataset } from '../dataset.js';
import type { LabelledIds } from './trainer.js';

/** The Keras preprocessing the sentiment model is trained with. */
export interface SentimentPreprocessing {
  /** Keras `num_words`: ids ≥ this are dropped (no OOV token). */
  numWords: number;
  maxlen: number;
  padding: 'pre' | 'post';
  truncating: 'pre' | 'post';
}

export const DEFAULT_SENTIMENT_PREPROCESSING: Readonly<SentimentPreprocessing> = Object.freeze({
  numWords: 10000,
  maxlen: 100,
  padding: 'pre',
  truncating: 'pre',
});

/** A tokenizer fitted on the training texts, as `Tokenizer(num_words=…).fit_on_texts(train)`. */
export function fitSentimentTokenizer(train: TextDataset, pre: SentimentPreprocessing): KerasTokenizer {
  const tokenizer = new KerasTokenizer({ numWords: pre.numWords, oovToken: null });
  tokenizer.fitOnTexts(train.texts);
  return tokenizer;
}

/** texts_to_sequences + pad_sequences, flattened into one row-major Int32Array. */
export function encodeSentimentDataset(tokenizer: KerasTokenizer, data: TextDataset, pre: SentimentPreprocessing): LabelledIds {
  const padded = padSequences(tokenizer.textsToSequences(data.texts), {
    maxlen: pre.maxlen,
    padding: pre.padding,
    truncating: pre.truncating,
  });
  const ids = new Int32Array(padded.length * pre.maxlen);
  padded.forEach((row, i) => ids.set(row, i * pre.maxlen));
  return { ids, count: padded.length, labels: data.labels };
}
