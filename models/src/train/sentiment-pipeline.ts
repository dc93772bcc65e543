import type { KerasTokenizer } from '@maas/keras-tokenizer';
import type { TextDataset } from '../dataset.js';
import { agreement, binaryMetrics, formatMetrics, thresholdLabels, type BinaryMetrics } from '@maas/model-evaluation';
import { scoreOnnx } from '../evaluate/onnx-scoring.js';
import type { OptimizerSpec } from './optimizers.js';
import { DEFAULT_SENTIMENT_PREPROCESSING, encodeSentimentDataset, fitSentimentTokenizer, type SentimentPreprocessing } from './sentiment-data.js';
import { DEFAULT_SENTIMENT_CONFIG, type SentimentModelConfig } from './sentiment-model.js';
import {
  exportSentimentFp32,
  exportSentimentInt8,
  quantizeSentimentWeights,
  SENTIMENT_INPUT,
  SENTIMENT_OUTPUT,
  type QuantizedSentimentWeights,
} from './sentiment-onnx.js';
import { trainSentiment, type LabelledIds, type TrainingResult } from './trainer.js';

export const SENTIMENT_LABELS: readonly [string, string] = ['negative', 'positive'];

export interface SentimentTrainingSettings {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSpec;
  classWeight?: readonly [number, number] | 'balanced';
  seed: number;
}

export const DEFAULT_SENTIMENT_TRAINING: Readonly<SentimentTrainingSettings> = Object.freeze<SentimentTrainingSettings>({
  epochs: 40,
  batchSize: 32,
  optimizer: { kind: 'adam', learningRate: 0.001 },
  classWeight: 'balanced',
  seed: 42,
});

/** Everything the sentiment packages are made of, before anything is written to disk. */
export interface SentimentArtifacts {
  pre: SentimentPreprocessing;
  config: SentimentModelConfig;
  settings: SentimentTrainingSettings;
  tokenizer: KerasTokenizer;
  trainIds: LabelledIds;
  testIds: LabelledIds;
  trained: TrainingResult;
  quantized: QuantizedSentimentWeights;
  fp32Model: Uint8Array;
  int8Model: Uint8Array;
  /** ONNX Runtime outputs of each file on the test split. */
  fp32Scores: Float32Array;
  int8Scores: Float32Array;
  fp32: BinaryMetrics;
  int8: BinaryMetrics;
  /** Share of test texts where the int8 and fp32 files give the same label. */
  int8Agreement: number;
}

/**
 * Fits the Keras tokenizer on the training texts, trains the classifier, exports the fp32 and
 * int8 ONNX files and evaluates both files in ONNX Runtime on the test split.
 */
export async function runSentimentPipeline(options: {
  train: TextDataset;
  test: TextDataset;
  training?: Partial<SentimentTrainingSettings>;
  log?: (line: string) => void;
}): Promise<SentimentArtifacts> {
  const log = options.log ?? (() => {});
  const settings: SentimentTrainingSettings = { ...DEFAULT_SENTIMENT_TRAINING, ...options.training };
  const pre = DEFAULT_SENTIMENT_PREPROCESSING;
  const config: SentimentModelConfig = { ...DEFAULT_SENTIMENT_CONFIG, vocabSize: pre.numWords, sequenceLength: pre.maxlen };

  const tokenizer = fitSentimentTokenizer(options.train, pre);
  const trainIds = encodeSentimentDataset(tokenizer, options.train, pre);
  const testIds = encodeSentimentDataset(tokenizer, options.test, pre);
  log(`keras tokenizer: ${tokenizer.wordIndex.size} words seen, num_words ${pre.numWords}, maxlen ${pre.maxlen} (${pre.padding}/${pre.truncating})`);
  const opt = settings.optimizer;
  log(`training sentiment: ${opt.kind} lr ${opt.learningRate ?? 'default'}, batch ${settings.batchSize}, ${settings.epochs} epochs, seed ${settings.seed}`);
  const trained = trainSentiment({
    config,
    train: trainIds,
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    optimizer: settings.optimizer,
    classWeight: settings.classWeight,
    seed: settings.seed,
    log: (line) => log(`  ${line}`),
  });
  log(`training time: ${trained.seconds.toFixed(2)} s`);

  const meta = (version: string): Record<string, string> => ({ 'maas.name': 'sentiment', 'maas.version': version });
  const fp32Model = exportSentimentFp32(trained.weights, {
    config,
    docString: 'Keras-style bag-of-embeddings sentiment classifier, fp32. Output: P(positive).',
    metadata: meta('1'),
  });
  const quantized = quantizeSentimentWeights(trained.weights, config);
  const int8Model = exportSentimentInt8(quantized, {
    config,
    docString: 'Keras-style bag-of-embeddings sentiment classifier, int8 weights (DequantizeLinear). Output: P(positive).',
    metadata: meta('2'),
  });

  const score = (model: Uint8Array): Promise<Float32Array> =>
    scoreOnnx({ model, ids: testIds.ids, count: testIds.count, sequenceLength: pre.maxlen, inputName: SENTIMENT_INPUT, outputName: SENTIMENT_OUTPUT });
  const fp32Scores = await score(fp32Model);
  const int8Scores = await score(int8Model);
  const fp32Labels = thresholdLabels(fp32Scores);
  const int8Labels = thresholdLabels(int8Scores);
  const fp32 = binaryMetrics(testIds.labels, fp32Labels);
  const int8 = binaryMetrics(testIds.labels, int8Labels);
  const int8Agreement = agreement(fp32Labels, int8Labels);
  log(formatMetrics('sentiment fp32 (test)', fp32, SENTIMENT_LABELS));
  log(formatMetrics('sentiment int8 (test)', int8, SENTIMENT_LABELS));
  log(`int8 vs fp32: labels agree on ${(int8Agreement * 100).toFixed(2)}% of the test set`);
  return { pre, config, settings, tokenizer, trainIds, testIds, trained, quantized, fp32Model, int8Model, fp32Scores, int8Scores, fp32, int8, int8Agreement };
}
