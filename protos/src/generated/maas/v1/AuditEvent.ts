// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditEvent {
  'id'?: (number | string | Long);
  'occurred_at'?: (string);
  'actor'?: (string);
  'action'?: (string);
  'model'?: (string);
  'details_json'?: (string);
  'from_revision'?: (number | string | Long);
  'to_revision'?: (number | string | Long);
}

export interface AuditEvent__Output {
  'id': (number);
  'occurred_at': (string);
  'actor': (string);
  'action': (string);
  'model': (string);
  'details_json': (string);
  'from_revision': (number);
  'to_revision': (number);
}
