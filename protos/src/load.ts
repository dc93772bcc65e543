import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import type { ProtoGrpcType as InferenceProto } from './generated/grpc_service.js';
import type { ProtoGrpcType as GatewayProto } from './generated/gateway.js';
import type { ProtoGrpcType as TokenizerProto } from './generated/tokenizer.js';
import type { ProtoGrpcType as RegistryProto } from './generated/registry.js';

/** Folder holding the .proto files (the package ships them beside dist/). */
export const PROTO_DIR = path.resolve(__dirname, '..');

/** Every contract file, relative to PROTO_DIR. */
export const PROTO_FILES = [
  'inference/grpc_service.proto',
  'maas/v1/manifest.proto',
  'maas/v1/registry.proto',
  'maas/v1/tokenizer.proto',
  'maas/v1/gateway.proto',
  'maas/v1/events.proto',
] as const;

/**
 * Loader options. They must match the flags in scripts/gen-protos.mjs, since the generated types describe
 * exactly what this loader produces: field names as written in the protos (snake_case), int64 as JS numbers
 * (ids, shapes and counts stay far below 2^53), defaults filled in, oneof names set.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

/** The gRPC package tree of every contract. */
export type Contracts = InferenceProto & GatewayProto & TokenizerProto & RegistryProto;

let cachedDefinition: protoLoader.PackageDefinition | undefined;

/** The proto-loader package definition of all contracts (also what server reflection serves). */
export function packageDefinition(): protoLoader.PackageDefinition {
  cachedDefinition ??= protoLoader.loadSync([...PROTO_FILES], LOADER_OPTIONS);
  return cachedDefinition;
}

let cachedContracts: Contracts | undefined;

/** Service constructors and definitions for clients and servers. */
export function contracts(): Contracts {
  cachedContracts ??= grpc.loadPackageDefinition(packageDefinition()) as unknown as Contracts;
  return cachedContracts;
}

let cachedRoot: protobuf.Root | undefined;

/** protobufjs root of all contracts, for messages that travel outside gRPC (NATS events). */
export function protobufRoot(): protobuf.Root {
  if (!cachedRoot) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
    root.loadSync([...PROTO_FILES], { keepCase: true });
    root.resolveAll();
    cachedRoot = root;
  }
  return cachedRoot;
}
