// Original file: maas/v1/events.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactDamaged {
  'revision'?: (number | string | Long);
  'model'?: (string);
  'version'?: (string);
  'path'?: (string);
  'sha256'?: (string);
  'problem'?: (string);
  'occurred_at'?: (string);
}

export interface ArtifactDamaged__Output {
  'revision': (number);
  'model': (string);
  'version': (string);
  'path': (string);
  'sha256': (string);
  'problem': (string);
  'occurred_at': (string);
}
