// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface Artifact {
  'path'?: (string);
  'sha256'?: (string);
  'size_bytes'?: (number | string | Long);
}

export interface Artifact__Output {
  'path': (string);
  'sha256': (string);
  'size_bytes': (number);
}
