// Original file: maas/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

export interface SetRolloutRequest {
  'model'?: (string);
  'stable_version'?: (string);
  'canary_version'?: (string);
  'canary_weight'?: (number);
  'expected_revision'?: (number | string | Long);
  'mirror_percent'?: (number);
}

export interface SetRolloutRequest__Output {
  'model': (string);
  'stable_version': (string);
  'canary_version': (string);
  'canary_weight': (number);
  'expected_revision': (number);
  'mirror_percent': (number);
}
