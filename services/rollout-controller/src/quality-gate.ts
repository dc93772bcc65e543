/**
 * The quality gate: the candidate's evaluation set (its package's `evaluation_file`) classified through the
 * serving path with each version pinned, candidate and stable on the same texts, and the candidate refused
 * when it is worse than stable by more than `maxDrop` on accuracy, precision, recall or F1.
 */
import { evaluateThroughGateway, loadEvaluationSet } from '@maas/model-evaluation';
import { Status, type GatewayClient, type GetVersionRequest, type ModelRegistryClient, type ModelVersion__Output } from '@maas/protos';
import { GrpcError, unaryCall } from '@maas/shared';
import type { EvaluationFigures, QualityGateRecord, QualityGateThresholds } from './model-rollout.js';

const METRICS = ['accuracy', 'precision', 'recall', 'f1'] as const;

export async function runQualityGate(options: {
  registry: ModelRegistryClient;
  gateway: GatewayClient;
  model: string;
  stable: string;
  candidate: string;
  thresholds: QualityGateThresholds;
  step: number;
  deadlineMs: number;
}): Promise<QualityGateRecord> {
  const { registry, gateway, model } = options;
  const deadline = new Date(Date.now() + options.deadlineMs);
  const candidateVersion = await unaryCall<GetVersionRequest, ModelVersion__Output>(
    (r, md, o, cb) => registry.GetVersion(r, md, o, cb),
    { model, version: options.candidate },
    { deadline },
  );
  const evaluation = await loadEvaluationSet({ registry, version: candidateVersion, deadline });
  if (!evaluation)
    throw new GrpcError(
      Status.FAILED_PRECONDITION,
      `${model} version ${options.candidate} carries no evaluation set (evaluation_file): a qualityGate step needs one`,
    );
  const measure = async (version: string): Promise<EvaluationFigures> => {
    const result = await evaluateThroughGateway({ gateway, model, version, set: evaluation.set, labels: evaluation.labels, deadline });
    return { accuracy: result.accuracy, precision: result.precision, recall: result.recall, f1: result.f1 };
  };
  const stable = await measure(options.stable);
  const candidate = await measure(options.candidate);
  const failures = METRICS.filter((metric) => stable[metric] - candidate[metric] > options.thresholds.maxDrop).map(
    (metric) =>
      `${metric} ${candidate[metric].toFixed(4)} vs stable ${stable[metric].toFixed(4)}: drop ${(stable[metric] - candidate[metric]).toFixed(4)} > ${options.thresholds.maxDrop}`,
  );
  return {
    step: options.step,
    result: failures.length ? 'Failed' : 'Passed',
    finishedAt: new Date().toISOString(),
    texts: evaluation.set.texts.length,
    stable,
    candidate,
    failures,
  };
}
