// Original file: maas/v1/manifest.proto

import type { Long } from '@grpc/proto-loader';

export interface TensorSpec {
  'name'?: (string);
  'datatype'?: (string);
  'shape'?: (number | string | Long)[];
  'role'?: (string);
}

export interface TensorSpec__Output {
  'name': (string);
  'datatype': (string);
  'shape': (number)[];
  'role': (string);
}
