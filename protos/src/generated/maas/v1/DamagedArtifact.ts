// Original file: maas/v1/registry.proto

import type { DamagedArtifactUse as _maas_v1_DamagedArtifactUse, DamagedArtifactUse__Output as _maas_v1_DamagedArtifactUse__Output } from '../../maas/v1/DamagedArtifactUse.js';

export interface DamagedArtifact {
  'sha256'?: (string);
  'problem'?: (string);
  'removed'?: (boolean);
  'used_by'?: (_maas_v1_DamagedArtifactUse)[];
}

export interface DamagedArtifact__Output {
  'sha256': (string);
  'problem': (string);
  'removed': (boolean);
  'used_by': (_maas_v1_DamagedArtifactUse__Output)[];
}
