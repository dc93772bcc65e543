// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface SetAliasRequest {
  'model'?: (string);
  'alias'?: (string);
  'version'?: (string);
  'expected_revision'?: (number | string | Long);
}

export interface SetAliasRequest__Output {
  'model': (string);
  'alias': (string);
  'version': (string);
  'expected_revision': (number);
}
