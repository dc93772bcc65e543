import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClassifyRequest as _maas_v1_ClassifyRequest, ClassifyRequest__Output as _maas_v1_ClassifyRequest__Output } from './maas/v1/ClassifyRequest.js';
import type { ClassifyResponse as _maas_v1_ClassifyResponse, ClassifyResponse__Output as _maas_v1_ClassifyResponse__Output } from './maas/v1/ClassifyResponse.js';
import type { GatewayClient as _maas_v1_GatewayClient, GatewayDefinition as _maas_v1_GatewayDefinition } from './maas/v1/Gateway.js';
import type { Prediction as _maas_v1_Prediction, Prediction__Output as _maas_v1_Prediction__Output } from './maas/v1/Prediction.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  maas: {
    v1: {
      ClassifyRequest: MessageTypeDefinition<_maas_v1_ClassifyRequest, _maas_v1_ClassifyRequest__Output>
      ClassifyResponse: MessageTypeDefinition<_maas_v1_ClassifyResponse, _maas_v1_ClassifyResponse__Output>
      Gateway: SubtypeConstructor<typeof grpc.Client, _maas_v1_GatewayClient> & { service: _maas_v1_GatewayDefinition }
      Prediction: MessageTypeDefinition<_maas_v1_Prediction, _maas_v1_Prediction__Output>
    }
  }
}

