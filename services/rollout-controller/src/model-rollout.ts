/**
 * The ModelRollout document: the same YAML as the custom resource (k8s/components/rollouts/model-rollout-crd.yaml)
 * and as the files of ROLLOUTS_DIR. Types, defaults, duration parsing and the checks the CRD's schema and CEL
 * rules make, so a local document is refused for the same reasons an API server would refuse it.
 */
import { parse as parseYaml } from 'yaml';

export const API_GROUP = 'maas.dev';
export const API_VERSION = 'v1alpha1';
export const KIND = 'ModelRollout';
export const PLURAL = 'modelrollouts';

/** Thresholds of an analysis: candidate compared with stable over the same window. */
export interface AnalysisThresholds {
  /** Most the candidate's error ratio may exceed stable's (0.01 = one point). */
  maxErrorRatioIncrease: number;
  /** Most the candidate's p99 compute latency may be, as a multiple of stable's. */
  maxP99LatencyRatio: number;
  /** Fewest candidate requests (and mirrored predictions while mirroring) a window needs to be conclusive. */
  minRequests: number;
  /** Least share of mirrored texts whose labels agree (0–1). */
  minAgreement: number;
  /** Most mean absolute score difference on mirrored texts whose labels agree. */
  maxScoreDifference: number;
  /** Inconclusive windows in a row (too few requests) before the analysis counts as failed. */
  maxInconclusive: number;
}

export interface QualityGateThresholds {
  /** Most the candidate may fall below stable on accuracy, precision, recall or F1 of the evaluation set. */
  maxDrop: number;
}

export type RolloutStep =
  | { setWeight: number }
  | { mirror: number }
  | { pause: { duration?: string } }
  | { analysis: Partial<AnalysisThresholds> }
  | { qualityGate: Partial<QualityGateThresholds> };

export type FailurePolicy = 'rollback' | 'pause';

export interface ModelRolloutSpec {
  model: string;
  /** Version label or alias serving today. */
  stable: string;
  /** Version label or alias under test. */
  candidate: string;
  /** While true the controller holds the rollout where it is. */
  paused?: boolean;
  /** Analysis window, e.g. 30s (default 60s). */
  interval?: string;
  onFailure?: FailurePolicy;
  analysis?: Partial<AnalysisThresholds>;
  qualityGate?: Partial<QualityGateThresholds>;
  steps: RolloutStep[];
}

export type RolloutPhase = 'Progressing' | 'Paused' | 'Promoted' | 'RolledBack' | 'Failed';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface VersionFigures {
  requests: number;
  errors: number;
  errorRatio: number;
  /** p99 of inference compute time in the window, seconds (0 without requests). */
  p99LatencySeconds: number;
}

/** What one analysis window measured, candidate and stable over the same window. */
export interface WindowFigures {
  windowSeconds: number;
  stable: VersionFigures;
  candidate: VersionFigures;
  mirroredPredictions: number;
  /** Share of mirrored texts whose labels agree; absent without mirrored texts. */
  agreement?: number;
  /** Mean absolute score difference of agreeing mirrored texts; absent without them. */
  scoreDifference?: number;
}

export interface AnalysisRecord extends WindowFigures {
  step: number;
  result: 'Passed' | 'Failed' | 'Inconclusive';
  startedAt: string;
  finishedAt: string;
  /** What failed, one line each. */
  failures: string[];
}

export interface EvaluationFigures {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface QualityGateRecord {
  step: number;
  result: 'Passed' | 'Failed';
  finishedAt: string;
  texts: number;
  stable: EvaluationFigures;
  candidate: EvaluationFigures;
  failures: string[];
}

export interface ModelRolloutStatus {
  observedGeneration?: number;
  phase?: RolloutPhase;
  message?: string;
  currentStepIndex?: number;
  /** When the current step began (RFC 3339). */
  stepStartedAt?: string;
  weight?: number;
  mirrorPercent?: number;
  /** The labels stable and candidate resolved to (aliases followed). */
  stableVersion?: string;
  candidateVersion?: string;
  /** The registry rollout revision the controller last read or wrote. */
  registryRevision?: number;
  versions?: Array<{ version: string; role: 'stable' | 'candidate'; ready: boolean }>;
  lastAnalysis?: AnalysisRecord;
  lastQualityGate?: QualityGateRecord;
  /** The last `maas.dev/action` annotation handled (so each request acts once). */
  handledAction?: string;
  conditions?: Condition[];
}

export interface ModelRolloutDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string; uid?: string; annotations?: Record<string, string> };
  spec: ModelRolloutSpec;
  status?: ModelRolloutStatus;
}

/** The annotation the CLI and the kubectl plugin set to ask for promote, abort or resume: `<verb>@<RFC 3339 time>`. */
export const ACTION_ANNOTATION = 'maas.dev/action';
export type RolloutAction = 'promote' | 'abort' | 'resume';

export const DEFAULT_THRESHOLDS: Readonly<AnalysisThresholds> = Object.freeze({
  maxErrorRatioIncrease: 0.01,
  maxP99LatencyRatio: 2,
  minRequests: 50,
  minAgreement: 0.95,
  maxScoreDifference: 0.1,
  maxInconclusive: 10,
});
export const DEFAULT_QUALITY_GATE: Readonly<QualityGateThresholds> = Object.freeze({ maxDrop: 0.02 });
export const DEFAULT_INTERVAL = '60s';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A Kubernetes-style duration (`500ms`, `30s`, `5m`, `1h`) in milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`${JSON.stringify(text)} is not a duration (a number with ms, s, m or h, e.g. 30s)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STEP_KINDS = ['setWeight', 'mirror', 'pause', 'analysis', 'qualityGate'] as const;

/**
 * Every problem of a document, each naming its field (what the CRD's schema and CEL rules refuse): empty when
 * valid. Kept in step with the CRD by a test that runs both on the same documents.
 */
export function validateModelRollout(doc: unknown): string[] {
  const problems: string[] = [];
  const d = doc as Partial<ModelRolloutDocument> | undefined;
  if (!d || typeof d !== 'object') return ['the document is not an object'];
  if (d.apiVersion !== `${API_GROUP}/${API_VERSION}`) problems.push(`apiVersion must be ${API_GROUP}/${API_VERSION} (got ${JSON.stringify(d.apiVersion)})`);
  if (d.kind !== KIND) problems.push(`kind must be ${KIND} (got ${JSON.stringify(d.kind)})`);
  const name = d.metadata?.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 63) problems.push(`metadata.name must be a DNS label (got ${JSON.stringify(name)})`);
  const spec = d.spec;
  if (!spec || typeof spec !== 'object') return [...problems, 'spec is required'];
  for (const field of ['model', 'stable', 'candidate'] as const) {
    if (typeof spec[field] !== 'string' || spec[field] === '') problems.push(`spec.${field} must be a non-empty string`);
  }
  if (spec.stable && spec.stable === spec.candidate) problems.push('spec.candidate must differ from spec.stable');
  if (spec.interval !== undefined) checkDuration(problems, 'spec.interval', spec.interval);
  if (spec.onFailure !== undefined && spec.onFailure !== 'rollback' && spec.onFailure !== 'pause')
    problems.push(`spec.onFailure must be rollback or pause (got ${JSON.stringify(spec.onFailure)})`);
  if (spec.paused !== undefined && typeof spec.paused !== 'boolean') problems.push('spec.paused must be a boolean');
  checkThresholds(problems, 'spec.analysis', spec.analysis);
  checkGate(problems, 'spec.qualityGate', spec.qualityGate);
  if (!Array.isArray(spec.steps) || spec.steps.length === 0) problems.push('spec.steps must list at least one step');
  else {
    spec.steps.forEach((step, index) => {
      const where = `spec.steps[${index}]`;
      const kinds = step && typeof step === 'object' ? Object.keys(step) : [];
      if (kinds.length !== 1 || !(STEP_KINDS as readonly string[]).includes(kinds[0]!)) {
        problems.push(`${where} must have exactly one of ${STEP_KINDS.join(', ')}`);
        return;
      }
      const s = step as Record<string, unknown>;
      if ('setWeight' in s) checkPercent(problems, `${where}.setWeight`, s.setWeight);
      if ('mirror' in s) checkPercent(problems, `${where}.mirror`, s.mirror);
      if ('pause' in s) {
        const pause = s.pause as { duration?: unknown } | null;
        if (!pause || typeof pause !== 'object') problems.push(`${where}.pause must be an object ({} waits for resume)`);
        else if (pause.duration !== undefined) checkDuration(problems, `${where}.pause.duration`, pause.duration);
      }
      if ('analysis' in s) checkThresholds(problems, `${where}.analysis`, s.analysis as Partial<AnalysisThresholds>);
      if ('qualityGate' in s) checkGate(problems, `${where}.qualityGate`, s.qualityGate as Partial<QualityGateThresholds>);
    });
  }
  return problems;
}

function checkPercent(problems: string[], where: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 100)
    problems.push(`${where} must be a whole number from 0 to 100 (got ${JSON.stringify(value)})`);
}

function checkDuration(problems: string[], where: string, value: unknown): void {
  if (typeof value !== 'string' || !DURATION.test(value)) problems.push(`${where} must be a duration such as 30s, 500ms or 5m (got ${JSON.stringify(value)})`);
}

function checkThresholds(problems: string[], where: string, value: Partial<AnalysisThresholds> | undefined): void {
  if (value === undefined) return;
  if (!value || typeof value !== 'object') return void problems.push(`${where} must be an object`);
  for (const [key, number] of Object.entries(value)) {
    if (!(key in DEFAULT_THRESHOLDS)) problems.push(`${where}.${key} is not a threshold (${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
    else if (typeof number !== 'number' || number < 0) problems.push(`${where}.${key} must be a number ≥ 0`);
    else if ((key === 'minAgreement' || key === 'maxErrorRatioIncrease') && number > 1) problems.push(`${where}.${key} must be from 0 to 1`);
  }
}

function checkGate(problems: string[], where: string, value: Partial<QualityGateThresholds> | undefined): void {
  if (value === undefined) return;
  if (!value || typeof value !== 'object') return void problems.push(`${where} must be an object`);
  for (const [key, number] of Object.entries(value)) {
    if (key !== 'maxDrop') problems.push(`${where}.${key} is not a quality gate threshold (maxDrop)`);
    else if (typeof number !== 'number' || number < 0 || number > 1) problems.push(`${where}.maxDrop must be from 0 to 1`);
  }
}

/** Parses one ModelRollout YAML (or JSON) document and validates it; throws naming every problem and the source. */
export function parseModelRollout(text: string, source: string): ModelRolloutDocument {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new Error(`${source}: not YAML (${(error as Error).message})`, { cause: error });
  }
  const problems = validateModelRollout(doc);
  if (problems.length > 0) throw new Error(`${source}: invalid ModelRollout:\n  - ${problems.join('\n  - ')}`);
  return doc as ModelRolloutDocument;
}

/** The step's kind (its one key). */
export function stepKind(step: RolloutStep): (typeof STEP_KINDS)[number] {
  return Object.keys(step)[0] as (typeof STEP_KINDS)[number];
}

/** Parses `maas.dev/action` (`promote@2026-...`); undefined when absent or malformed. */
export function requestedAction(doc: ModelRolloutDocument): { action: RolloutAction; raw: string } | undefined {
  const raw = doc.metadata.annotations?.[ACTION_ANNOTATION];
  const verb = raw?.split('@')[0];
  if (!raw || (verb !== 'promote' && verb !== 'abort' && verb !== 'resume')) return undefined;
  return { action: verb, raw };
}
