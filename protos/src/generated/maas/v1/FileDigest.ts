// Original file: maas/v1/manifest.proto

import type { Long } from '@grpc/proto-loader';

export interface FileDigest {
  'path'?: (string);
  'sha256'?: (string);
  'size_bytes'?: (number | string | Long);
}

export interface FileDigest__Output {
  'path': (string);
  'sha256': (string);
  'size_bytes': (number);
}
