import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { EncodeRequest as _maas_v1_EncodeRequest, EncodeRequest__Output as _maas_v1_EncodeRequest__Output } from './maas/v1/EncodeRequest.js';
import type { EncodeResponse as _maas_v1_EncodeResponse, EncodeResponse__Output as _maas_v1_EncodeResponse__Output } from './maas/v1/EncodeResponse.js';
import type { EncodedTensor as _maas_v1_EncodedTensor, EncodedTensor__Output as _maas_v1_EncodedTensor__Output } from './maas/v1/EncodedTensor.js';
import type { TokenizerClient as _maas_v1_TokenizerClient, TokenizerDefinition as _maas_v1_TokenizerDefinition } from './maas/v1/Tokenizer.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  maas: {
    v1: {
      EncodeRequest: MessageTypeDefinition<_maas_v1_EncodeRequest, _maas_v1_EncodeRequest__Output>
      EncodeResponse: MessageTypeDefinition<_maas_v1_EncodeResponse, _maas_v1_EncodeResponse__Output>
      EncodedTensor: MessageTypeDefinition<_maas_v1_EncodedTensor, _maas_v1_EncodedTensor__Output>
      Tokenizer: SubtypeConstructor<typeof grpc.Client, _maas_v1_TokenizerClient> & { service: _maas_v1_TokenizerDefinition }
    }
  }
}

