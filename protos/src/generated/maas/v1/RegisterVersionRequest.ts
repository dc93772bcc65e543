// Original file: maas/v1/registry.proto

import type { ModelManifest as _maas_v1_ModelManifest, ModelManifest__Output as _maas_v1_ModelManifest__Output } from '../../maas/v1/ModelManifest.js';
import type { FileChunk as _maas_v1_FileChunk, FileChunk__Output as _maas_v1_FileChunk__Output } from '../../maas/v1/FileChunk.js';

export interface RegisterVersionRequest {
  'manifest'?: (_maas_v1_ModelManifest | null);
  'chunk'?: (_maas_v1_FileChunk | null);
  'part'?: "manifest"|"chunk";
}

export interface RegisterVersionRequest__Output {
  'manifest'?: (_maas_v1_ModelManifest__Output | null);
  'chunk'?: (_maas_v1_FileChunk__Output | null);
  'part'?: "manifest"|"chunk";
}
