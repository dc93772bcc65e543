import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { FileDigest as _maas_v1_FileDigest, FileDigest__Output as _maas_v1_FileDigest__Output } from './maas/v1/FileDigest.js';
import type { ModelManifest as _maas_v1_ModelManifest, ModelManifest__Output as _maas_v1_ModelManifest__Output } from './maas/v1/ModelManifest.js';
import type { TensorSpec as _maas_v1_TensorSpec, TensorSpec__Output as _maas_v1_TensorSpec__Output } from './maas/v1/TensorSpec.js';
import type { TokenizerSpec as _maas_v1_TokenizerSpec, TokenizerSpec__Output as _maas_v1_TokenizerSpec__Output } from './maas/v1/TokenizerSpec.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  maas: {
    v1: {
      FileDigest: MessageTypeDefinition<_maas_v1_FileDigest, _maas_v1_FileDigest__Output>
      ModelManifest: MessageTypeDefinition<_maas_v1_ModelManifest, _maas_v1_ModelManifest__Output>
      TensorSpec: MessageTypeDefinition<_maas_v1_TensorSpec, _maas_v1_TensorSpec__Output>
      TokenizerSpec: MessageTypeDefinition<_maas_v1_TokenizerSpec, _maas_v1_TokenizerSpec__Output>
    }
  }
}

