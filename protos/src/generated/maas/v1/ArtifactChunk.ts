// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactChunk {
  'data'?: (Buffer | Uint8Array | string);
  'sha256'?: (string);
  'size_bytes'?: (number | string | Long);
}

export interface ArtifactChunk__Output {
  'data': (Buffer);
  'sha256': (string);
  'size_bytes': (number);
}
