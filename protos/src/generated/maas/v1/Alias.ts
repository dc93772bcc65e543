// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface Alias {
  'name'?: (string);
  'version'?: (string);
  'revision'?: (number | string | Long);
  'updated_at'?: (string);
}

export interface Alias__Output {
  'name': (string);
  'version': (string);
  'revision': (number);
  'updated_at': (string);
}
