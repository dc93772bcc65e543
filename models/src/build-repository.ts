import { join, resolve } from 'node:path';
import { readJsonl, type TextDataset } from './dataset.js';
import { buildWordPieceVocab, PAD_ID, wordPieceTokenizerJson } from './encoder/wordpiece-tokenizer.js';
import {
  DEFAULT_ENCODER_CONFIG,
  ENCODER_INPUTS,
  ENCODER_OUTPUT,
  encoderParameterCount,
  exportEncoderOnnx,
  type EncoderConfig,
} from './encoder/encoder-onnx.js';
import { formatEvaluationSet, type BinaryMetrics } from '@maas/model-evaluation';
import { MANIFEST_FORMAT_VERSION, type MaasManifest } from './package/manifest.js';
import { packageJson, writeModelPackage } from './package/model-package.js';
import type { SentimentPreprocessing } from './train/sentiment-data.js';
import { SENTIMENT_INPUT, SENTIMENT_OUTPUT } from './train/sentiment-onnx.js';
import { runSentimentPipeline, SENTIMENT_LABELS, type SentimentArtifacts, type SentimentTrainingSettings } from './train/sentiment-pipeline.js';
import type { EpochRecord } from './train/trainer.js';

/** The models workspace folder (this file is src/… or build/…, one level down). */
export const MODELS_ROOT = resolve(__dirname, '..');
/** Where the sentiment data set lives: train.jsonl and test.jsonl. */
export const DEFAULT_DATA_DIR = join(MODELS_ROOT, 'sentiment', 'data');
/** Default output of `npm run models`: dist/<model>/<version>/. */
export const DEFAULT_OUT_DIR = join(MODELS_ROOT, 'dist');

export const LABELS = SENTIMENT_LABELS;

export interface EncoderBuildSettings extends EncoderConfig {
  /** WordPiece vocabulary size (sets `vocabSize`). */
  maxVocabSize: number;
}

export const DEFAULT_ENCODER_BUILD: Readonly<Omit<EncoderBuildSettings, 'vocabSize'>> = Object.freeze({
  ...DEFAULT_ENCODER_CONFIG,
  maxVocabSize: 8192,
});

export interface BuildModelRepositoryOptions {
  /** Repository root; packages go to <outDir>/<model>/<version>/. */
  outDir: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Folder with train.jsonl and test.jsonl (default: models/sentiment/data). */
  dataDir?: string;
  /** Overrides of the sentiment training settings (tests use fewer epochs). */
  training?: Partial<SentimentTrainingSettings>;
  /** Overrides of the encoder shape (tests use a smaller one). */
  encoder?: Partial<Omit<EncoderBuildSettings, 'vocabSize'>>;
}

export interface BuiltPackage {
  name: string;
  version: string;
  dir: string;
  manifest: MaasManifest;
}

export interface BuildModelRepositoryResult {
  packages: BuiltPackage[];
  sentiment: {
    history: EpochRecord[];
    trainingSeconds: number;
    fp32: BinaryMetrics;
    int8: BinaryMetrics;
    /** Share of test texts where int8 and fp32 give the same label. */
    int8Agreement: number;
    fp32Bytes: number;
    int8Bytes: number;
  };
  encoder: { bytes: number; parameters: number; vocabSize: number };
  seconds: number;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

function headlineMetrics(m: BinaryMetrics): Record<string, number> {
  return { accuracy: round6(m.accuracy), precision: round6(m.precision), recall: round6(m.recall), f1: round6(m.f1) };
}

function metricsDocument(m: BinaryMetrics, extra: Record<string, unknown>): Record<string, unknown> {
  const c = m.confusion;
  return {
    split: 'test',
    examples: m.count,
    positive_label: LABELS[1],
    threshold: 0.5,
    ...headlineMetrics(m),
    confusion_matrix: {
      labels: [...LABELS],
      // Rows are true labels, columns predicted labels: [[tn, fp], [fn, tp]].
      matrix: [
        [c.trueNegatives, c.falsePositives],
        [c.falseNegatives, c.truePositives],
      ],
    },
    ...extra,
  };
}

function sentimentManifest(options: {
  version: string;
  description: string;
  pre: SentimentPreprocessing;
  metrics: BinaryMetrics;
}): Omit<MaasManifest, 'files'> {
  return {
    format_version: MANIFEST_FORMAT_VERSION,
    name: 'sentiment',
    version: options.version,
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    description: options.description,
    model_file: 'model.onnx',
    inputs: [{ name: SENTIMENT_INPUT, datatype: 'INT64', shape: [-1, options.pre.maxlen], role: 'input_ids' }],
    outputs: [{ name: SENTIMENT_OUTPUT, datatype: 'FP32', shape: [-1, 1] }],
    tokenizer: {
      kind: 'keras',
      file: 'tokenizer.json',
      max_length: options.pre.maxlen,
      padding_side: options.pre.padding,
      truncation_side: options.pre.truncating,
      pad_id: 0,
    },
    labels: [...LABELS],
    // The graph ends in a sigmoid already: the output is P(positive).
    output_activation: 'none',
    metrics: headlineMetrics(options.metrics),
  };
}

async function loadSplits(dataDir: string): Promise<{ train: TextDataset; test: TextDataset }> {
  try {
    return { train: await readJsonl(join(dataDir, 'train.jsonl')), test: await readJsonl(join(dataDir, 'test.jsonl')) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`sentiment data set not found in ${dataDir} (train.jsonl, test.jsonl): ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The sentiment packages' evaluation set: the test split, labels written as the manifest names them. */
export const SENTIMENT_EVALUATION_FILE = 'evaluation.jsonl';

async function writeSentimentPackages(options: {
  outDir: string;
  artifacts: SentimentArtifacts;
  /** The test split (480 texts, about 40 KiB): what the packages carry as their evaluation set. */
  test: TextDataset;
  log: (line: string) => void;
}): Promise<BuiltPackage[]> {
  const { outDir, artifacts: a, log } = options;
  const evaluationSet = formatEvaluationSet({ texts: options.test.texts, labels: Array.from(options.test.labels, (label) => LABELS[label]!) });
  const last = a.trained.history[a.trained.history.length - 1];
  const opt = a.settings.optimizer;
  const training = {
    optimizer: opt.kind,
    learning_rate: opt.learningRate ?? null,
    epochs: a.settings.epochs,
    batch_size: a.settings.batchSize,
    seed: a.settings.seed,
    class_weight: [...a.trained.classWeight].map(round6),
    final_train_loss: last ? round6(last.loss) : null,
    final_train_accuracy: last ? round6(last.accuracy) : null,
    train_examples: a.trainIds.count,
  };
  const tokenizerJson = a.tokenizer.toJson();
  const versions = [
    {
      version: '1',
      description: 'Keras-style bag-of-embeddings sentiment classifier, fp32',
      model: a.fp32Model,
      metrics: a.fp32,
      extra: { precision_mode: 'fp32', training },
    },
    {
      version: '2',
      description: 'Keras-style bag-of-embeddings sentiment classifier, int8 weights',
      model: a.int8Model,
      metrics: a.int8,
      extra: {
        precision_mode: 'int8',
        quantization:
          'symmetric int8 (zero point 0): embedding minus its padding row, per column (axis 1), the padding row folded into the dense1 bias; dense1 kernel per input row (axis 0); biases and the 16-weight output kernel fp32',
        agreement_with_fp32: round6(a.int8Agreement),
        fp32_reference: 'sentiment/1',
        size_ratio_to_fp32: round6(a.int8Model.length / a.fp32Model.length),
        training,
      },
    },
  ];
  const built: BuiltPackage[] = [];
  for (const v of versions) {
    const dir = join(outDir, 'sentiment', v.version);
    const manifest = await writeModelPackage({
      dir,
      manifest: {
        ...sentimentManifest({ version: v.version, description: v.description, pre: a.pre, metrics: v.metrics }),
        evaluation_file: SENTIMENT_EVALUATION_FILE,
      },
      files: [
        { path: 'model.onnx', data: v.model },
        { path: 'tokenizer.json', data: tokenizerJson },
        { path: 'metrics.json', data: packageJson(metricsDocument(v.metrics, v.extra)) },
        { path: SENTIMENT_EVALUATION_FILE, data: evaluationSet },
      ],
    });
    built.push({ name: 'sentiment', version: v.version, dir, manifest });
  }
  log(
    `sentiment model.onnx: fp32 ${kib(a.fp32Model.length)}, int8 ${kib(a.int8Model.length)} ` +
      `(${((a.int8Model.length / a.fp32Model.length) * 100).toFixed(1)}% of fp32)`,
  );
  return built;
}

async function writeEncoderPackage(options: {
  outDir: string;
  texts: readonly string[];
  settings: Omit<EncoderBuildSettings, 'vocabSize'>;
  log: (line: string) => void;
}): Promise<{ built: BuiltPackage; bytes: number; parameters: number; vocabSize: number }> {
  const { settings, log } = options;
  const vocab = buildWordPieceVocab({ texts: options.texts, maxVocabSize: settings.maxVocabSize });
  const { maxVocabSize: _vocabBudget, ...shape } = settings;
  const config: EncoderConfig = { ...shape, vocabSize: vocab.length };
  const model = exportEncoderOnnx(config, {
    docString:
      `BERT-shaped encoder for compute benchmarks (${config.layers} layers, hidden ${config.hiddenSize}, ` +
      `${config.heads} heads, FFN ${config.intermediateSize}); seeded random weights, not trained.`,
    metadata: { 'maas.name': 'encoder-bench', 'maas.version': '1' },
  });
  const dir = join(options.outDir, 'encoder-bench', '1');
  const S = config.maxSequenceLength;
  const manifest = await writeModelPackage({
    dir,
    manifest: {
      format_version: MANIFEST_FORMAT_VERSION,
      name: 'encoder-bench',
      version: '1',
      task: 'text-classification',
      platform: 'onnxruntime_onnx',
      description:
        `BERT-shaped ${config.layers}-layer encoder (hidden ${config.hiddenSize}, ${config.heads} heads) with seeded random ` +
        'weights, for compute benchmarks; its labels carry no meaning',
      model_file: 'model.onnx',
      inputs: [
        { name: ENCODER_INPUTS.ids, datatype: 'INT64', shape: [-1, S], role: 'input_ids' },
        { name: ENCODER_INPUTS.mask, datatype: 'INT64', shape: [-1, S], role: 'attention_mask' },
      ],
      outputs: [{ name: ENCODER_OUTPUT, datatype: 'FP32', shape: [-1, config.numLabels] }],
      tokenizer: { kind: 'huggingface', file: 'tokenizer.json', max_length: S, padding_side: 'post', truncation_side: 'post', pad_id: PAD_ID },
      labels: [...LABELS],
      output_activation: 'softmax',
      // Random weights: there is nothing to evaluate.
      metrics: {},
    },
    files: [
      { path: 'model.onnx', data: model },
      { path: 'tokenizer.json', data: packageJson(wordPieceTokenizerJson(vocab)) },
    ],
  });
  const parameters = encoderParameterCount(config);
  log(`encoder-bench model.onnx: ${mib(model.length)}, ${(parameters / 1e6).toFixed(2)} M parameters, WordPiece vocabulary ${vocab.length}`);
  return { built: { name: 'encoder-bench', version: '1', dir, manifest }, bytes: model.length, parameters, vocabSize: vocab.length };
}

/**
 * Builds the example model repository: sentiment/1 (fp32), sentiment/2 (int8) and
 * encoder-bench/1, each a folder with model.onnx, tokenizer.json, metrics.json (when evaluated)
 * and maas.json. Deterministic: the same data and settings give the same bytes. The package
 * folders it builds are replaced; anything else under outDir is left alone.
 */
export async function buildModelRepository(options: BuildModelRepositoryOptions): Promise<BuildModelRepositoryResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const { train, test } = await loadSplits(dataDir);
  log(`data: ${train.texts.length} train / ${test.texts.length} test texts from ${dataDir}`);

  const artifacts = await runSentimentPipeline({ train, test, training: options.training, log });
  const sentimentPackages = await writeSentimentPackages({ outDir: options.outDir, artifacts, test, log });
  const encoder = await writeEncoderPackage({
    outDir: options.outDir,
    texts: train.texts,
    settings: { ...DEFAULT_ENCODER_BUILD, ...options.encoder },
    log,
  });

  const packages = [...sentimentPackages, encoder.built];
  const seconds = (performance.now() - started) / 1000;
  log(`built ${packages.map((p) => `${p.name}/${p.version}`).join(', ')} in ${options.outDir} (${seconds.toFixed(1)} s)`);
  return {
    packages,
    sentiment: {
      history: artifacts.trained.history,
      trainingSeconds: artifacts.trained.seconds,
      fp32: artifacts.fp32,
      int8: artifacts.int8,
      int8Agreement: artifacts.int8Agreement,
      fp32Bytes: artifacts.fp32Model.length,
      int8Bytes: artifacts.int8Model.length,
    },
    encoder: { bytes: encoder.bytes, parameters: encoder.parameters, vocabSize: encoder.vocabSize },
    seconds,
  };
}
