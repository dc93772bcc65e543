/**
 * The rules a model package manifest (maas.json, message maas.v1.ModelManifest) must follow.
 *
 * They live with the contract so that every side applies the same ones: the registry enforces them at
 * registration, the models pipeline before it writes or verifies a package, and the tokenizer reuses the
 * tokenizer and input rules when it reads a served manifest. Pure functions with no I/O. Validation never
 * stops at the first problem: a package author fixes everything in one round trip.
 */
import type { ModelManifest, ModelManifest__Output } from './generated/maas/v1/ModelManifest.js';
import type { TensorSpec__Output } from './generated/maas/v1/TensorSpec.js';
import type { TokenizerSpec__Output } from './generated/maas/v1/TokenizerSpec.js';

/** The manifest's own file name inside a package; the registry stores it as an artifact of every version. */
export const MANIFEST_FILE = 'maas.json';
/** The manifest format this contract describes. */
export const MANIFEST_FORMAT_VERSION = 1;
/** Tasks the gateway serves. */
export const SUPPORTED_TASKS = ['text-classification'] as const;
/** Runtimes the inference service loads. */
export const SUPPORTED_PLATFORMS = ['onnxruntime_onnx'] as const;
/** What the gateway applies to the first output before reading labels. */
export const OUTPUT_ACTIVATIONS = ['none', 'sigmoid', 'softmax'] as const;
export type OutputActivation = (typeof OUTPUT_ACTIVATIONS)[number];
export const TOKENIZER_KINDS = ['keras', 'huggingface'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];
/** Where padding goes and which end a long sequence loses. */
export const SEQUENCE_SIDES = ['pre', 'post'] as const;
export type SequenceSide = (typeof SEQUENCE_SIDES)[number];
/** What the tokenizer fills an input with. */
export const INPUT_ROLES = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export type InputRole = (typeof INPUT_ROLES)[number];
/** Open Inference Protocol datatype strings. */
export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];
/** Token ids are integers; the tokenizer writes them as INT64 or INT32. */
const TOKEN_DATATYPES = ['INT32', 'INT64'];
/** Classify reads scores from the first output. */
const SCORE_DATATYPES = ['FP16', 'FP32', 'FP64', 'BF16'];

/**
 * Model names become NATS subject tokens and Kubernetes label values: lowercase letters, digits and '-',
 * 1–63 characters, starting and ending with a letter or digit (the k8s label rule).
 */
export const MODEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Version labels: digits, letters, '.', '_' or '-', 1–63 characters, starting with a letter or digit (so never "." or ".."). */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Package paths: '/'-separated segments of portable file-name characters; '.'/'..' segments are refused separately. */
const PATH_PATTERN = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
const MAX_PATH_LENGTH = 255;
const MAX_FILES = 1_000;
const MAX_LABELS = 10_000;
const MAX_DESCRIPTION_LENGTH = 4_096;
/** Longest sequence a tokenizer may pad to; far above any text model's context, low enough to bound memory. */
const MAX_SEQUENCE_LENGTH = 65_536;

/** Optional size limits (the registry's configuration) checked against the sizes the manifest declares. */
export interface ManifestLimits {
  /** Largest single file, in bytes. */
  maxFileBytes?: number;
  /** Largest package (sum of all files), in bytes. */
  maxPackageBytes?: number;
}

export type ManifestValidation = { ok: true; manifest: ModelManifest__Output } | { ok: false; problems: string[] };

/** Whether `name` is a valid model name (see MODEL_NAME_PATTERN). */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME_PATTERN.test(name);
}

/** Whether `version` is a valid version label (see VERSION_PATTERN). */
export function isValidVersion(version: string): boolean {
  return VERSION_PATTERN.test(version);
}

/** A relative, '/'-separated path that cannot leave the package directory, or the reason it is not. */
export function packagePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return `${JSON.stringify(path)} must be relative, not absolute`;
  if (path.split(/[\\/]/).some((segment) => segment === '..' || segment === '.')) return `${JSON.stringify(path)} must not contain '.' or '..' segments`;
  if (!PATH_PATTERN.test(path)) return `${JSON.stringify(path)} must be '/'-separated names of letters, digits, '.', '_' and '-'`;
  return undefined;
}

/**
 * Checks a manifest as received over gRPC (defaults filled) or parsed from maas.json (fields may be missing,
 * int64 fields may be decimal strings as in proto3 JSON). Returns the normalized manifest, or every problem
 * found, each starting with the field it is about (e.g. `files[1].sha256: ...`).
 */
export function validateManifest(input: unknown, limits: ManifestLimits = {}): ManifestValidation {
  const problems: string[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { ok: false, problems: ['manifest: must be an object'] };
  const manifest = normalizeManifest(input as ModelManifest, problems);

  if (manifest.format_version !== MANIFEST_FORMAT_VERSION) {
    problems.push(`format_version: must be ${MANIFEST_FORMAT_VERSION} (got ${manifest.format_version})`);
  }
  if (!isValidModelName(manifest.name)) {
    problems.push(
      `name: ${JSON.stringify(manifest.name)} must be lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit`,
    );
  }
  if (!isValidVersion(manifest.version)) {
    problems.push(`version: ${JSON.stringify(manifest.version)} must be letters, digits, '.', '_' or '-', 1–63 characters, starting with a letter or digit`);
  }
  checkOneOf(problems, 'task', manifest.task, SUPPORTED_TASKS);
  checkOneOf(problems, 'platform', manifest.platform, SUPPORTED_PLATFORMS);
  checkOneOf(problems, 'output_activation', manifest.output_activation, OUTPUT_ACTIVATIONS);
  if (manifest.description.length > MAX_DESCRIPTION_LENGTH) problems.push(`description: must be at most ${MAX_DESCRIPTION_LENGTH} characters`);

  const filePaths = checkFiles(problems, manifest, limits);
  checkPackageFileReference(problems, 'model_file', manifest.model_file, filePaths);
  // Optional: a package without an evaluation set simply has no quality gate.
  if (manifest.evaluation_file) checkPackageFileReference(problems, 'evaluation_file', manifest.evaluation_file, filePaths);
  problems.push(...tokenizerProblems(manifest.tokenizer, filePaths));
  problems.push(...inputProblems(manifest));
  problems.push(...padIdFitsProblems(manifest));
  checkOutputs(problems, manifest);
  checkLabels(problems, manifest);
  for (const [key, value] of Object.entries(manifest.metrics)) {
    if (key.length === 0) problems.push('metrics: keys must not be empty');
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`metrics[${JSON.stringify(key)}]: must be a finite number`);
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, manifest };
}

/**
 * The manifest as stored and served in `maas.json`: JSON with keys sorted at every level and no whitespace,
 * so the same manifest always has the same bytes (and so the same sha256).
 */
export function canonicalManifestJson(manifest: ModelManifest__Output): string {
  // Optional fields added after format 1 are left out while empty, so a package that does not use them keeps
  // the exact bytes (and digest) it had before they existed; readers fill in the proto default.
  const { evaluation_file: evaluationFile, ...rest } = manifest;
  return canonicalJson(evaluationFile ? manifest : rest);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function checkOneOf(problems: string[], field: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) problems.push(`${field}: ${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
}

function checkFiles(problems: string[], manifest: ModelManifest__Output, limits: ManifestLimits): Set<string> {
  const paths = new Set<string>();
  if (manifest.files.length === 0) problems.push('files: must list the package files (at least the model and tokenizer files)');
  if (manifest.files.length > MAX_FILES) problems.push(`files: at most ${MAX_FILES} files (got ${manifest.files.length})`);
  let total = 0;
  manifest.files.forEach((file, index) => {
    const field = `files[${index}]`;
    const pathProblem = packagePathProblem(file.path);
    if (pathProblem) problems.push(`${field}.path: ${pathProblem}`);
    else if (file.path === MANIFEST_FILE) problems.push(`${field}.path: ${MANIFEST_FILE} is the manifest itself and must not be listed`);
    else if (paths.has(file.path)) problems.push(`${field}.path: ${JSON.stringify(file.path)} is listed twice`);
    paths.add(file.path);
    if (!SHA256_PATTERN.test(file.sha256)) problems.push(`${field}.sha256: must be 64 lowercase hex digits (file ${JSON.stringify(file.path)})`);
    if (!Number.isSafeInteger(file.size_bytes) || file.size_bytes < 0) {
      problems.push(`${field}.size_bytes: must be a non-negative integer (file ${JSON.stringify(file.path)})`);
    } else {
      total += file.size_bytes;
      if (limits.maxFileBytes !== undefined && file.size_bytes > limits.maxFileBytes) {
        problems.push(
          `${field}.size_bytes: ${JSON.stringify(file.path)} is ${file.size_bytes} bytes, over the registry's limit of ${limits.maxFileBytes} bytes per file`,
        );
      }
    }
  });
  if (limits.maxPackageBytes !== undefined && total > limits.maxPackageBytes) {
    problems.push(`files: the package is ${total} bytes, over the registry's limit of ${limits.maxPackageBytes} bytes`);
  }
  return paths;
}

function checkPackageFileReference(problems: string[], field: string, path: string, listed: ReadonlySet<string>): void {
  if (path.length === 0) problems.push(`${field}: is required`);
  else if (!listed.has(path)) problems.push(`${field}: ${JSON.stringify(path)} is not listed in files`);
}

/**
 * Problems of the tokenizer section: kind, max_length, sides and pad_id, and, when `listedFiles` is given, that
 * its file is one of the package's files.
 */
export function tokenizerProblems(tokenizer: TokenizerSpec__Output | null | undefined, listedFiles?: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  if (!tokenizer) return ['tokenizer: is required'];
  checkOneOf(problems, 'tokenizer.kind', tokenizer.kind, TOKENIZER_KINDS);
  if (listedFiles) checkPackageFileReference(problems, 'tokenizer.file', tokenizer.file, listedFiles);
  if (!Number.isInteger(tokenizer.max_length) || tokenizer.max_length < 1 || tokenizer.max_length > MAX_SEQUENCE_LENGTH) {
    problems.push(`tokenizer.max_length: must be an integer from 1 to ${MAX_SEQUENCE_LENGTH} (got ${tokenizer.max_length})`);
  }
  checkOneOf(problems, 'tokenizer.padding_side', tokenizer.padding_side, SEQUENCE_SIDES);
  checkOneOf(problems, 'tokenizer.truncation_side', tokenizer.truncation_side, SEQUENCE_SIDES);
  if (!Number.isSafeInteger(tokenizer.pad_id) || tokenizer.pad_id < 0)
    problems.push(`tokenizer.pad_id: must be a non-negative integer (got ${tokenizer.pad_id})`);
  return problems;
}

/**
 * Problems of the inputs, which the tokenizer fills: names, datatypes (token ids are INT32 or INT64), shapes
 * (a fixed sequence dimension equals tokenizer.max_length), roles (each once, one of them input_ids).
 */
export function inputProblems(manifest: Pick<ModelManifest__Output, 'inputs' | 'tokenizer'>): string[] {
  const problems: string[] = [];
  const sequenceLength = manifest.tokenizer?.max_length;
  const roles = new Set<string>();
  checkTensorList(problems, 'inputs', manifest.inputs, (field, tensor) => {
    if (!(INPUT_ROLES as readonly string[]).includes(tensor.role)) {
      problems.push(`${field}.role: ${JSON.stringify(tensor.role)} must be one of ${INPUT_ROLES.join(', ')}`);
    } else if (roles.has(tensor.role)) {
      problems.push(`${field}.role: ${JSON.stringify(tensor.role)} is given to two inputs`);
    }
    roles.add(tensor.role);
    if (isOipDatatype(tensor.datatype) && !TOKEN_DATATYPES.includes(tensor.datatype)) {
      problems.push(`${field}.datatype: token inputs must be ${TOKEN_DATATYPES.join(' or ')} (got ${tensor.datatype})`);
    }
    // The tokenizer pads every row to max_length, so a fixed sequence dimension must agree with it.
    const sequenceDim = tensor.shape[1];
    if (sequenceLength !== undefined && sequenceDim !== undefined && sequenceDim !== -1 && sequenceDim !== sequenceLength) {
      problems.push(`${field}.shape: sequence dimension ${sequenceDim} differs from tokenizer.max_length ${sequenceLength}`);
    }
  });
  if (manifest.inputs.length > 0 && !roles.has('input_ids')) problems.push('inputs: one input must have role input_ids');
  return problems;
}

/**
 * The pad id is written into input_ids: an INT32 input_ids must be able to hold it. The tokenizer refuses such a
 * version when it loads it (services/tokenizer encoder.ts), so the registry refuses it at registration instead of
 * storing a version that can never become ready. (Kept out of inputProblems, which the tokenizer also runs beside
 * its own copy of this rule, so its message does not say it twice.)
 */
export function padIdFitsProblems(manifest: Pick<ModelManifest__Output, 'inputs' | 'tokenizer'>): string[] {
  const padId = manifest.tokenizer?.pad_id;
  if (padId === undefined || !Number.isSafeInteger(padId)) return [];
  return manifest.inputs.flatMap((input, index) =>
    input.datatype === 'INT32' && input.role === 'input_ids' && padId > INT32_MAX
      ? [`inputs[${index}].datatype: INT32 cannot hold tokenizer.pad_id ${padId} (at most ${INT32_MAX}; use INT64)`]
      : [],
  );
}

const INT32_MAX = 2 ** 31 - 1;

function checkOutputs(problems: string[], manifest: ModelManifest__Output): void {
  checkTensorList(problems, 'outputs', manifest.outputs, (field, tensor) => {
    if (tensor.role.length > 0) problems.push(`${field}.role: roles are for inputs; must be empty (got ${JSON.stringify(tensor.role)})`);
  });
  const scores = manifest.outputs[0];
  if (scores && isOipDatatype(scores.datatype) && !SCORE_DATATYPES.includes(scores.datatype)) {
    problems.push(`outputs[0].datatype: Classify reads scores from the first output, which must be ${SCORE_DATATYPES.join(', ')} (got ${scores.datatype})`);
  }
}

function isOipDatatype(datatype: string): boolean {
  return (OIP_DATATYPES as readonly string[]).includes(datatype);
}

/** The rules every tensor list shares (non-empty, unique names, OIP datatypes, shapes); `each` adds the list's own. */
function checkTensorList(
  problems: string[],
  group: 'inputs' | 'outputs',
  tensors: readonly TensorSpec__Output[],
  each: (field: string, tensor: TensorSpec__Output) => void,
): void {
  if (tensors.length === 0) problems.push(`${group}: must not be empty`);
  const names = new Set<string>();
  tensors.forEach((tensor, index) => {
    const field = `${group}[${index}]`;
    if (tensor.name.length === 0) problems.push(`${field}.name: is required`);
    else if (names.has(tensor.name)) problems.push(`${field}.name: ${JSON.stringify(tensor.name)} is used twice`);
    names.add(tensor.name);
    if (!isOipDatatype(tensor.datatype)) {
      problems.push(`${field}.datatype: ${JSON.stringify(tensor.datatype)} must be an Open Inference Protocol datatype (${OIP_DATATYPES.join(', ')})`);
    }
    checkShape(problems, field, tensor);
    each(field, tensor);
  });
}

function checkShape(problems: string[], field: string, tensor: TensorSpec__Output): void {
  if (tensor.shape.length === 0) {
    problems.push(`${field}.shape: must have at least the batch dimension`);
    return;
  }
  if (tensor.shape.some((dim) => !Number.isSafeInteger(dim) || dim === 0 || dim < -1)) {
    problems.push(`${field}.shape: dimensions must be positive integers or -1 (dynamic) (got [${tensor.shape.join(', ')}])`);
  } else if (tensor.shape[0] !== -1) {
    problems.push(`${field}.shape: the batch (first) dimension must be -1 (got ${tensor.shape[0]})`);
  }
}

function checkLabels(problems: string[], manifest: ModelManifest__Output): void {
  const labels = manifest.labels;
  if (labels.length === 0) problems.push('labels: must not be empty');
  if (labels.length > MAX_LABELS) problems.push(`labels: at most ${MAX_LABELS} (got ${labels.length})`);
  const seen = new Set<string>();
  labels.forEach((label, index) => {
    if (label.length === 0) problems.push(`labels[${index}]: must not be empty`);
    else if (seen.has(label)) problems.push(`labels[${index}]: ${JSON.stringify(label)} is listed twice`);
    seen.add(label);
  });
  // When the score dimension is fixed its width must match the labels: one score reads as
  // labels[1] when ≥ 0.5 (two labels), otherwise one score per label.
  const scores = manifest.outputs[0];
  const width = scores && scores.shape.length >= 2 ? scores.shape[scores.shape.length - 1] : undefined;
  if (width === undefined || width === -1 || labels.length === 0) return;
  if (width === 1) {
    if (labels.length !== 2) problems.push(`labels: a single-score output (outputs[0] last dimension 1) needs exactly 2 labels (got ${labels.length})`);
    if (manifest.output_activation === 'softmax') problems.push('output_activation: softmax over a single score is always 1; use sigmoid or none');
  } else if (width !== labels.length) {
    problems.push(`labels: outputs[0] has ${width} scores per row but ${labels.length} labels are listed`);
  }
}

/** Fills defaults (as the gRPC loader does) and coerces proto3-JSON int64 strings, recording type problems. */
function normalizeManifest(input: ModelManifest, problems: string[]): ModelManifest__Output {
  const text = (field: string, value: unknown): string => {
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return value;
    problems.push(`${field}: must be a string`);
    return '';
  };
  const integer = (field: string, value: unknown): number => {
    if (value === undefined || value === null) return 0;
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
    // Long objects (from a loader configured without longs: Number).
    if (typeof value === 'object' && typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
    problems.push(`${field}: must be an integer`);
    return Number.NaN;
  };
  const list = <T>(field: string, value: unknown, item: (element: unknown, field: string) => T): T[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      problems.push(`${field}: must be a list`);
      return [];
    }
    return value.map((element, index) => item(element, `${field}[${index}]`));
  };
  const record = (field: string, value: unknown): Record<string, unknown> => {
    if (value === undefined || value === null) return {};
    if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    problems.push(`${field}: must be an object`);
    return {};
  };
  const tensor = (value: unknown, field: string): TensorSpec__Output => {
    const spec = record(field, value);
    return {
      name: text(`${field}.name`, spec.name),
      datatype: text(`${field}.datatype`, spec.datatype),
      shape: list(`${field}.shape`, spec.shape, (dim, dimField) => integer(dimField, dim)),
      role: text(`${field}.role`, spec.role),
    };
  };
  const tokenizer = input.tokenizer === undefined || input.tokenizer === null ? null : record('tokenizer', input.tokenizer);
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(record('metrics', input.metrics))) {
    metrics[key] = typeof value === 'string' && value.trim() !== '' ? Number(value) : (value as number);
  }
  return {
    format_version: integer('format_version', input.format_version),
    name: text('name', input.name),
    version: text('version', input.version),
    task: text('task', input.task),
    platform: text('platform', input.platform),
    description: text('description', input.description),
    model_file: text('model_file', input.model_file),
    inputs: list('inputs', input.inputs, tensor),
    outputs: list('outputs', input.outputs, tensor),
    tokenizer: tokenizer && {
      kind: text('tokenizer.kind', tokenizer.kind),
      file: text('tokenizer.file', tokenizer.file),
      max_length: integer('tokenizer.max_length', tokenizer.max_length),
      padding_side: text('tokenizer.padding_side', tokenizer.padding_side),
      truncation_side: text('tokenizer.truncation_side', tokenizer.truncation_side),
      pad_id: integer('tokenizer.pad_id', tokenizer.pad_id),
    },
    labels: list('labels', input.labels, (label, field) => text(field, label)),
    output_activation: text('output_activation', input.output_activation),
    files: list('files', input.files, (value, field) => {
      const file = record(field, value);
      return {
        path: text(`${field}.path`, file.path),
        sha256: text(`${field}.sha256`, file.sha256),
        size_bytes: integer(`${field}.size_bytes`, file.size_bytes),
      };
    }),
    metrics,
    evaluation_file: text('evaluation_file', input.evaluation_file),
  };
}
