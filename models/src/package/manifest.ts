/**
 * The package manifest `maas.json` as the pipeline writes it: message maas.v1.ModelManifest as proto3 JSON with
 * the original (snake_case) field names. The rules a manifest must follow are the contract's (`validateManifest`
 * in @maas/protos); these types only narrow the fields to what the pipeline fills in. See models/README.md for
 * the meaning of every field.
 */
import type { InputRole, OipDatatype, OutputActivation, SequenceSide, TokenizerKind } from '@maas/protos';

export { MANIFEST_FILE, MANIFEST_FORMAT_VERSION, type InputRole, type OutputActivation, type TokenizerKind } from '@maas/protos';
export type TensorDatatype = OipDatatype;
export type Side = SequenceSide;

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
  /** A labelled evaluation set in the package (JSON lines of text and label), for a rollout's quality gate. */
  evaluation_file?: string;
}
