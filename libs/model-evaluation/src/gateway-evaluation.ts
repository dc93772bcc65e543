/**
 * The quality gate's measurement: a version's evaluation set classified through the serving path (the
 * gateway's Classify with the version pinned, so tokenizer, inference and post-processing are exactly what
 * callers get), scored with the same metrics the models pipeline computes when it builds a package.
 */
import {
  Status,
  type ClassifyRequest,
  type ClassifyResponse__Output,
  type GatewayClient,
  type ModelRegistryClient,
  type ModelVersion__Output,
} from '@maas/protos';
import { downloadArtifact } from '@maas/registry-client';
import { GrpcError, unaryCall } from '@maas/shared';
import { binaryMetrics, type BinaryMetrics } from './classification-metrics.js';
import { parseEvaluationSet, type EvaluationSet } from './evaluation-set.js';

/** Most bytes of an evaluation file accepted from the registry (a test split of a few thousand texts fits). */
export const MAX_EVALUATION_FILE_BYTES = 16 * 1024 * 1024;
/** Texts per Classify call: well under the gateway's default MAX_BATCH_TEXTS (256). */
export const DEFAULT_EVALUATION_BATCH_TEXTS = 64;

export interface GatewayEvaluationOptions {
  gateway: GatewayClient;
  model: string;
  /** A version label or alias, pinned on every call (the rollout is bypassed). */
  version: string;
  set: EvaluationSet;
  /**
   * The model's two labels, negative first (the manifest's `labels`): the metrics are those of the second one,
   * as the models pipeline computes them.
   */
  labels: readonly [string, string];
  /** Deadline of the whole evaluation: a Date, or milliseconds from now. */
  deadline: Date | number;
  /** Texts per Classify call (default DEFAULT_EVALUATION_BATCH_TEXTS). */
  batchTexts?: number;
}

export interface GatewayEvaluation extends BinaryMetrics {
  /** The version label that answered (the alias resolved). */
  version: string;
}

/**
 * Classifies the evaluation set through the gateway, pinned to one version, and returns accuracy, precision,
 * recall and F1 of the positive (second) label, with the confusion matrix. A failed call fails the evaluation
 * with its gRPC status: a partial evaluation would compare apples with oranges.
 */
export async function evaluateThroughGateway(options: GatewayEvaluationOptions): Promise<GatewayEvaluation> {
  const { set, labels } = options;
  const deadline = typeof options.deadline === 'number' ? new Date(Date.now() + options.deadline) : options.deadline;
  const batchTexts = options.batchTexts ?? DEFAULT_EVALUATION_BATCH_TEXTS;
  const predicted: string[] = [];
  let answeredBy = '';
  for (let start = 0; start < set.texts.length; start += batchTexts) {
    const request: ClassifyRequest = { model: options.model, texts: set.texts.slice(start, start + batchTexts), version: options.version };
    const response = await unaryCall<ClassifyRequest, ClassifyResponse__Output>((r, md, o, cb) => options.gateway.Classify(r, md, o, cb), request, {
      deadline,
    });
    for (const prediction of response.predictions) {
      // A pin answers with one version; another one here means the alias moved mid-evaluation.
      if (answeredBy && prediction.model_version !== answeredBy) {
        throw new GrpcError(
          Status.ABORTED,
          `${options.model} ${JSON.stringify(options.version)} was answered by version ${answeredBy}, then by ${prediction.model_version}: the alias moved during the evaluation`,
        );
      }
      answeredBy = prediction.model_version;
      predicted.push(prediction.label);
    }
  }
  const positive = labels[1];
  const asBinary = (values: readonly string[]) => Uint8Array.from(values, (label) => (label === positive ? 1 : 0));
  return { ...binaryMetrics(asBinary(set.labels), asBinary(predicted)), version: answeredBy };
}

/**
 * Reads a version's evaluation set from the registry: the file its manifest names in `evaluation_file`,
 * downloaded and checked against its listed digest. Undefined when the package carries none; FAILED_PRECONDITION
 * when the model is not binary (the metrics are those of a positive label).
 */
export async function loadEvaluationSet(options: {
  registry: ModelRegistryClient;
  version: ModelVersion__Output;
  deadline: Date | number;
}): Promise<{ set: EvaluationSet; labels: readonly [string, string] } | undefined> {
  const { version } = options;
  const manifest = version.manifest;
  if (!manifest?.evaluation_file) return undefined;
  if (manifest.labels.length !== 2) {
    throw new GrpcError(
      Status.FAILED_PRECONDITION,
      `${version.model} version ${version.version} has ${manifest.labels.length} labels; evaluation sets are scored for two-label models only`,
    );
  }
  const listed = manifest.files.find((file) => file.path === manifest.evaluation_file);
  const { data } = await downloadArtifact({
    registry: options.registry,
    request: { model: version.model, version: version.version, path: manifest.evaluation_file },
    deadline: options.deadline,
    maxBytes: MAX_EVALUATION_FILE_BYTES,
    expected: listed && { sha256: listed.sha256, size_bytes: listed.size_bytes },
    sink: 'buffer',
    what: 'evaluation set',
  });
  const set = parseEvaluationSet(data.toString('utf8'), { labels: manifest.labels, source: `${version.model}/${version.version}/${manifest.evaluation_file}` });
  return { set, labels: [manifest.labels[0]!, manifest.labels[1]!] };
}
