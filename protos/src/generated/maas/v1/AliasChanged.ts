// Original file: maas/v1/events.proto

import type { Long } from '@grpc/proto-loader';

export interface AliasChanged {
  'revision'?: (number | string | Long);
  'model'?: (string);
  'alias'?: (string);
  'version'?: (string);
  'previous_version'?: (string);
  'occurred_at'?: (string);
}

export interface AliasChanged__Output {
  'revision': (number);
  'model': (string);
  'alias': (string);
  'version': (string);
  'previous_version': (string);
  'occurred_at': (string);
}
