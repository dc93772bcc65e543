// Original file: maas/v1/manifest.proto

import type { Long } from '@grpc/proto-loader';

export interface TokenizerSpec {
  'kind'?: (string);
  'file'?: (string);
  'max_length'?: (number);
  'padding_side'?: (string);
  'truncation_side'?: (string);
  'pad_id'?: (number | string | Long);
}

export interface TokenizerSpec__Output {
  'kind': (string);
  'file': (string);
  'max_length': (number);
  'padding_side': (string);
  'truncation_side': (string);
  'pad_id': (number);
}
