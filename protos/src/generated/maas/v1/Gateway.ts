// Original file: maas/v1/gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClassifyRequest as _maas_v1_ClassifyRequest, ClassifyRequest__Output as _maas_v1_ClassifyRequest__Output } from '../../maas/v1/ClassifyRequest.js';
import type { ClassifyResponse as _maas_v1_ClassifyResponse, ClassifyResponse__Output as _maas_v1_ClassifyResponse__Output } from '../../maas/v1/ClassifyResponse.js';

export interface GatewayClient extends grpc.Client {
  Classify(argument: _maas_v1_ClassifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _maas_v1_ClassifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _maas_v1_ClassifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _maas_v1_ClassifyRequest, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _maas_v1_ClassifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _maas_v1_ClassifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _maas_v1_ClassifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _maas_v1_ClassifyRequest, callback: grpc.requestCallback<_maas_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface GatewayHandlers extends grpc.UntypedServiceImplementation {
  Classify: grpc.handleUnaryCall<_maas_v1_ClassifyRequest__Output, _maas_v1_ClassifyResponse>;
  
}

export interface GatewayDefinition extends grpc.ServiceDefinition {
  Classify: MethodDefinition<_maas_v1_ClassifyRequest, _maas_v1_ClassifyResponse, _maas_v1_ClassifyRequest__Output, _maas_v1_ClassifyResponse__Output>
}
