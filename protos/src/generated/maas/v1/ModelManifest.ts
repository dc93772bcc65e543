// Original file: maas/v1/manifest.proto

import type { TensorSpec as _maas_v1_TensorSpec, TensorSpec__Output as _maas_v1_TensorSpec__Output } from '../../maas/v1/TensorSpec.js';
import type { TokenizerSpec as _maas_v1_TokenizerSpec, TokenizerSpec__Output as _maas_v1_TokenizerSpec__Output } from '../../maas/v1/TokenizerSpec.js';
import type { FileDigest as _maas_v1_FileDigest, FileDigest__Output as _maas_v1_FileDigest__Output } from '../../maas/v1/FileDigest.js';

export interface ModelManifest {
  'format_version'?: (number);
  'name'?: (string);
  'version'?: (string);
  'task'?: (string);
  'platform'?: (string);
  'description'?: (string);
  'model_file'?: (string);
  'inputs'?: (_maas_v1_TensorSpec)[];
  'outputs'?: (_maas_v1_TensorSpec)[];
  'tokenizer'?: (_maas_v1_TokenizerSpec | null);
  'labels'?: (string)[];
  'output_activation'?: (string);
  'files'?: (_maas_v1_FileDigest)[];
  'metrics'?: ({[key: string]: number | string});
  'evaluation_file'?: (string);
}

export interface ModelManifest__Output {
  'format_version': (number);
  'name': (string);
  'version': (string);
  'task': (string);
  'platform': (string);
  'description': (string);
  'model_file': (string);
  'inputs': (_maas_v1_TensorSpec__Output)[];
  'outputs': (_maas_v1_TensorSpec__Output)[];
  'tokenizer': (_maas_v1_TokenizerSpec__Output | null);
  'labels': (string)[];
  'output_activation': (string);
  'files': (_maas_v1_FileDigest__Output)[];
  'metrics': ({[key: string]: number});
  'evaluation_file': (string);
}
