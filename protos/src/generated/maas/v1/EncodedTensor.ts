// Original file: maas/v1/tokenizer.proto

import type { Long } from '@grpc/proto-loader';

export interface EncodedTensor {
  'name'?: (string);
  'datatype'?: (string);
  'shape'?: (number | string | Long)[];
  'raw_contents'?: (Buffer | Uint8Array | string);
}

export interface EncodedTensor__Output {
  'name': (string);
  'datatype': (string);
  'shape': (number)[];
  'raw_contents': (Buffer);
}
