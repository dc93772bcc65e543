// Original file: maas/v1/registry.proto

import type { ModelVersion as _maas_v1_ModelVersion, ModelVersion__Output as _maas_v1_ModelVersion__Output } from '../../maas/v1/ModelVersion.js';
import type { Rollout as _maas_v1_Rollout, Rollout__Output as _maas_v1_Rollout__Output } from '../../maas/v1/Rollout.js';
import type { Alias as _maas_v1_Alias, Alias__Output as _maas_v1_Alias__Output } from '../../maas/v1/Alias.js';

export interface Model {
  'name'?: (string);
  'versions'?: (_maas_v1_ModelVersion)[];
  'rollout'?: (_maas_v1_Rollout | null);
  'aliases'?: (_maas_v1_Alias)[];
}

export interface Model__Output {
  'name': (string);
  'versions': (_maas_v1_ModelVersion__Output)[];
  'rollout': (_maas_v1_Rollout__Output | null);
  'aliases': (_maas_v1_Alias__Output)[];
}
