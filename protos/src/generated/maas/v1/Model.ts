// Original file: maas/v1/registry.proto

import type { ModelVersion as _maas_v1_ModelVersion, ModelVersion__Output as _maas_v1_ModelVersion__Output } from '../../maas/v1/ModelVersion.js';
import type { Rollout as _maas_v1_Rollout, Rollout__Output as _maas_v1_Rollout__Output } from '../../maas/v1/Rollout.js';

export interface Model {
  'name'?: (string);
  'versions'?: (_maas_v1_ModelVersion)[];
  'rollout'?: (_maas_v1_Rollout | null);
}

export interface Model__Output {
  'name': (string);
  'versions': (_maas_v1_ModelVersion__Output)[];
  'rollout': (_maas_v1_Rollout__Output | null);
}
