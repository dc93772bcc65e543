// Original file: maas/v1/tokenizer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { EncodeRequest as _maas_v1_EncodeRequest, EncodeRequest__Output as _maas_v1_EncodeRequest__Output } from '../../maas/v1/EncodeRequest.js';
import type { EncodeResponse as _maas_v1_EncodeResponse, EncodeResponse__Output as _maas_v1_EncodeResponse__Output } from '../../maas/v1/EncodeResponse.js';

export interface TokenizerClient extends grpc.Client {
  Encode(argument: _maas_v1_EncodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _maas_v1_EncodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _maas_v1_EncodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _maas_v1_EncodeRequest, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _maas_v1_EncodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _maas_v1_EncodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _maas_v1_EncodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _maas_v1_EncodeRequest, callback: grpc.requestCallback<_maas_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface TokenizerHandlers extends grpc.UntypedServiceImplementation {
  Encode: grpc.handleUnaryCall<_maas_v1_EncodeRequest__Output, _maas_v1_EncodeResponse>;
  
}

export interface TokenizerDefinition extends grpc.ServiceDefinition {
  Encode: MethodDefinition<_maas_v1_EncodeRequest, _maas_v1_EncodeResponse, _maas_v1_EncodeRequest__Output, _maas_v1_EncodeResponse__Output>
}
