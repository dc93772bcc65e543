// Original file: maas/v1/tokenizer.proto

import type { EncodedTensor as _maas_v1_EncodedTensor, EncodedTensor__Output as _maas_v1_EncodedTensor__Output } from '../../maas/v1/EncodedTensor.js';

export interface EncodeResponse {
  'model'?: (string);
  'version'?: (string);
  'tensors'?: (_maas_v1_EncodedTensor)[];
  'token_counts'?: (number)[];
  'truncated'?: (boolean)[];
}

export interface EncodeResponse__Output {
  'model': (string);
  'version': (string);
  'tensors': (_maas_v1_EncodedTensor__Output)[];
  'token_counts': (number)[];
  'truncated': (boolean)[];
}
