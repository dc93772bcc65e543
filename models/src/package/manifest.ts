/**
 * The package manifest `maas.json`. Keys are snake_case because the file mirrors a protobuf
 * message the services use (proto3 JSON with original field names). See models/README.md for
 * the meaning of every field.
 */

export const MANIFEST_FILE = 'maas.json';
export const MANIFEST_FORMAT_VERSION = 1;

export type TensorDatatype = 'BOOL' | 'UINT8' | 'INT8' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BYTES';
export type InputRole = 'input_ids' | 'attention_mask' | 'token_type_ids';
export type TokenizerKind = 'keras' | 'huggingface';
export type Side = 'pre' | 'post';
export type OutputActivation = 'none' | 'sigmoid' | 'softmax';

export interface ManifestTensor {
  name: string;
  datatype: TensorDatatype;
  /** -1 marks a dynamic dimension (the batch). */
  shape: number[];
  /** Inputs only: which tokenizer output feeds it. */
  role?: InputRole;
}

export interface ManifestTokenizer {
  kind: TokenizerKind;
  file: string;
  max_length: number;
  padding_side: Side;
  truncation_side: Side;
  pad_id: number;
}

export interface ManifestFile {
  path: string;
  sha256: string;
  size_bytes: number;
}

export interface MaasManifest {
  format_version: number;
  name: string;
  version: string;
  task: string;
  platform: string;
  description: string;
  model_file: string;
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  tokenizer: ManifestTokenizer;
  labels: string[];
  output_activation: OutputActivation;
  files: ManifestFile[];
  metrics: Record<string, number>;
}

const DATATYPES: readonly string[] = ['BOOL', 'UINT8', 'INT8', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
const ROLES: readonly string[] = ['input_ids', 'attention_mask', 'token_type_ids'];
const ACTIVATIONS: readonly string[] = ['none', 'sigmoid', 'softmax'];
const SIDES: readonly string[] = ['pre', 'post'];
// As protos/maas/v1/manifest.proto states: a name is part of NATS subjects and Kubernetes labels.
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^[A-Za-z0-9._-]{1,63}$/;

/**
 * Checks a parsed manifest and returns every problem found (empty when valid). The file list and
 * hashes are checked against the files by `verifyModelPackage`, not here.
 */
export function manifestProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['manifest must be a JSON object'];
  const m = value as Record<string, unknown>;
  const str = (key: string, v: unknown = m[key]): v is string => {
    if (typeof v === 'string' && v.length > 0) return true;
    problems.push(`${key} must be a non-empty string`);
    return false;
  };
  const int = (key: string, v: unknown, min: number): void => {
    if (!Number.isInteger(v) || (v as number) < min) problems.push(`${key} must be an integer ≥ ${min}`);
  };
  if (m.format_version !== MANIFEST_FORMAT_VERSION) problems.push(`format_version must be ${MANIFEST_FORMAT_VERSION}`);
  if (str('name') && !NAME.test(m.name as string)) problems.push('name must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit');
  if (str('version') && !VERSION.test(m.version as string)) problems.push('version must be 1–63 letters, digits, ".", "_" or "-"');
  str('task');
  str('platform');
  if (typeof m.description !== 'string') problems.push('description must be a string');
  str('model_file');
  const tensors = (key: 'inputs' | 'outputs'): void => {
    const list = m[key];
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(`${key} must be a non-empty array`);
      return;
    }
    list.forEach((t: Record<string, unknown>, i) => {
      const where = `${key}[${i}]`;
      str(`${where}.name`, t?.name);
      if (!DATATYPES.includes(t?.datatype as string)) problems.push(`${where}.datatype must be one of ${DATATYPES.join(', ')}`);
      if (!Array.isArray(t?.shape) || !t.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= -1)) {
        problems.push(`${where}.shape must be an array of integers (-1 for dynamic)`);
      }
      if (t?.role !== undefined && (key === 'outputs' || !ROLES.includes(t.role as string))) {
        problems.push(`${where}.role must be one of ${ROLES.join(', ')} (inputs only)`);
      }
    });
  };
  tensors('inputs');
  tensors('outputs');
  const tok = m.tokenizer as Record<string, unknown> | undefined;
  if (typeof tok !== 'object' || tok === null) {
    problems.push('tokenizer must be an object');
  } else {
    if (tok.kind !== 'keras' && tok.kind !== 'huggingface') problems.push('tokenizer.kind must be keras or huggingface');
    str('tokenizer.file', tok.file);
    int('tokenizer.max_length', tok.max_length, 1);
    if (!SIDES.includes(tok.padding_side as string)) problems.push('tokenizer.padding_side must be pre or post');
    if (!SIDES.includes(tok.truncation_side as string)) problems.push('tokenizer.truncation_side must be pre or post');
    int('tokenizer.pad_id', tok.pad_id, 0);
  }
  if (!Array.isArray(m.labels) || m.labels.length === 0 || !m.labels.every((l) => typeof l === 'string')) {
    problems.push('labels must be a non-empty array of strings');
  }
  if (!ACTIVATIONS.includes(m.output_activation as string)) problems.push(`output_activation must be one of ${ACTIVATIONS.join(', ')}`);
  if (!Array.isArray(m.files)) {
    problems.push('files must be an array');
  } else {
    m.files.forEach((f: Record<string, unknown>, i) => {
      str(`files[${i}].path`, f?.path);
      if (typeof f?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) problems.push(`files[${i}].sha256 must be 64 lowercase hex digits`);
      int(`files[${i}].size_bytes`, f?.size_bytes, 0);
    });
  }
  if (typeof m.metrics !== 'object' || m.metrics === null || !Object.values(m.metrics).every((v) => typeof v === 'number')) {
    problems.push('metrics must be an object of numbers');
  }
  return problems;
}
