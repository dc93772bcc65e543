// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface Rollout {
  'model'?: (string);
  'stable_version'?: (string);
  'canary_version'?: (string);
  'canary_weight'?: (number);
  'revision'?: (number | string | Long);
  'updated_at'?: (string);
  'mirror_percent'?: (number);
}

export interface Rollout__Output {
  'model': (string);
  'stable_version': (string);
  'canary_version': (string);
  'canary_weight': (number);
  'revision': (number);
  'updated_at': (string);
  'mirror_percent': (number);
}
