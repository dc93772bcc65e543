export {
  buildModelRepository,
  DEFAULT_DATA_DIR,
  DEFAULT_OUT_DIR,
  DEFAULT_ENCODER_BUILD,
  LABELS,
  type BuildModelRepositoryOptions,
  type BuildModelRepositoryResult,
  type BuiltPackage,
  type EncoderBuildSettings,
} from './build-repository.js';
export { runSentimentPipeline, DEFAULT_SENTIMENT_TRAINING, type SentimentTrainingSettings, type SentimentArtifacts } from './train/sentiment-pipeline.js';
export {
  MANIFEST_FILE,
  MANIFEST_FORMAT_VERSION,
  type MaasManifest,
  type ManifestFile,
  type ManifestTensor,
  type ManifestTokenizer,
  type TensorDatatype,
  type InputRole,
  type TokenizerKind,
  type Side,
  type OutputActivation,
} from './package/manifest.js';
export { writeModelPackage, verifyModelPackage, sha256Hex, type PackageFile, type PackageVerification } from './package/model-package.js';
export { OnnxGraphBuilder, decodeOnnxModel, type TensorData, type Dim, type AttributeValue, type NodeSpec, type ModelOptions } from './onnx/graph-builder.js';
export { OnnxDataType } from './onnx/onnx-schema.js';
export { binaryMetrics, confusionMatrix, thresholdLabels, agreement, type BinaryMetrics, type ConfusionMatrix } from '@maas/model-evaluation';
export { buildWordPieceVocab, wordPieceTokenizerJson, bertPreTokenize } from './encoder/wordpiece-tokenizer.js';
export { exportEncoderOnnx, DEFAULT_ENCODER_CONFIG, type EncoderConfig } from './encoder/encoder-onnx.js';
export { trainSentiment, type TrainingOptions, type TrainingResult, type EpochRecord, type LabelledIds } from './train/trainer.js';
export { createOptimizer, type OptimizerSpec, type OptimizerKind } from './train/optimizers.js';
export { SeededRandom } from './random.js';
