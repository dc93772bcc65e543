// Original file: maas/v1/registry.proto

import type { DamagedArtifact as _maas_v1_DamagedArtifact, DamagedArtifact__Output as _maas_v1_DamagedArtifact__Output } from '../../maas/v1/DamagedArtifact.js';
import type { Long } from '@grpc/proto-loader';

export interface CheckStorageResponse {
  'blobs_checked'?: (number);
  'bytes_checked'?: (number | string | Long);
  'damaged'?: (_maas_v1_DamagedArtifact)[];
}

export interface CheckStorageResponse__Output {
  'blobs_checked': (number);
  'bytes_checked': (number);
  'damaged': (_maas_v1_DamagedArtifact__Output)[];
}
