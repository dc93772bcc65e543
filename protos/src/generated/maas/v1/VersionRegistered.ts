// Original file: maas/v1/events.proto

import type { Long } from '@grpc/proto-loader';

export interface VersionRegistered {
  'revision'?: (number | string | Long);
  'model'?: (string);
  'version'?: (string);
  'occurred_at'?: (string);
}

export interface VersionRegistered__Output {
  'revision': (number);
  'model': (string);
  'version': (string);
  'occurred_at': (string);
}
