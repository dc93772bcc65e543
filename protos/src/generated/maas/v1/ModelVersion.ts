// Original file: maas/v1/registry.proto

import type { ModelManifest as _maas_v1_ModelManifest, ModelManifest__Output as _maas_v1_ModelManifest__Output } from '../../maas/v1/ModelManifest.js';
import type { Artifact as _maas_v1_Artifact, Artifact__Output as _maas_v1_Artifact__Output } from '../../maas/v1/Artifact.js';
import type { Long } from '@grpc/proto-loader';

export interface ModelVersion {
  'model'?: (string);
  'version'?: (string);
  'manifest'?: (_maas_v1_ModelManifest | null);
  'artifacts'?: (_maas_v1_Artifact)[];
  'created_at'?: (string);
  'revision'?: (number | string | Long);
}

export interface ModelVersion__Output {
  'model': (string);
  'version': (string);
  'manifest': (_maas_v1_ModelManifest__Output | null);
  'artifacts': (_maas_v1_Artifact__Output)[];
  'created_at': (string);
  'revision': (number);
}
