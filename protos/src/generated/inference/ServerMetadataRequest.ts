// Original file: /work/main/protos/inference/grpc_service.proto


export interface ServerMetadataRequest {
}

export interface ServerMetadataRequest__Output {
}
