import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Alias as _maas_v1_Alias, Alias__Output as _maas_v1_Alias__Output } from './maas/v1/Alias.js';
import type { AliasChanged as _maas_v1_AliasChanged, AliasChanged__Output as _maas_v1_AliasChanged__Output } from './maas/v1/AliasChanged.js';
import type { Artifact as _maas_v1_Artifact, Artifact__Output as _maas_v1_Artifact__Output } from './maas/v1/Artifact.js';
import type { ArtifactChunk as _maas_v1_ArtifactChunk, ArtifactChunk__Output as _maas_v1_ArtifactChunk__Output } from './maas/v1/ArtifactChunk.js';
import type { ArtifactDamaged as _maas_v1_ArtifactDamaged, ArtifactDamaged__Output as _maas_v1_ArtifactDamaged__Output } from './maas/v1/ArtifactDamaged.js';
import type { AuditEvent as _maas_v1_AuditEvent, AuditEvent__Output as _maas_v1_AuditEvent__Output } from './maas/v1/AuditEvent.js';
import type { CheckStorageRequest as _maas_v1_CheckStorageRequest, CheckStorageRequest__Output as _maas_v1_CheckStorageRequest__Output } from './maas/v1/CheckStorageRequest.js';
import type { CheckStorageResponse as _maas_v1_CheckStorageResponse, CheckStorageResponse__Output as _maas_v1_CheckStorageResponse__Output } from './maas/v1/CheckStorageResponse.js';
import type { DamagedArtifact as _maas_v1_DamagedArtifact, DamagedArtifact__Output as _maas_v1_DamagedArtifact__Output } from './maas/v1/DamagedArtifact.js';
import type { DamagedArtifactUse as _maas_v1_DamagedArtifactUse, DamagedArtifactUse__Output as _maas_v1_DamagedArtifactUse__Output } from './maas/v1/DamagedArtifactUse.js';
import type { DownloadArtifactRequest as _maas_v1_DownloadArtifactRequest, DownloadArtifactRequest__Output as _maas_v1_DownloadArtifactRequest__Output } from './maas/v1/DownloadArtifactRequest.js';
import type { FileChunk as _maas_v1_FileChunk, FileChunk__Output as _maas_v1_FileChunk__Output } from './maas/v1/FileChunk.js';
import type { FileDigest as _maas_v1_FileDigest, FileDigest__Output as _maas_v1_FileDigest__Output } from './maas/v1/FileDigest.js';
import type { GetModelRequest as _maas_v1_GetModelRequest, GetModelRequest__Output as _maas_v1_GetModelRequest__Output } from './maas/v1/GetModelRequest.js';
import type { GetVersionRequest as _maas_v1_GetVersionRequest, GetVersionRequest__Output as _maas_v1_GetVersionRequest__Output } from './maas/v1/GetVersionRequest.js';
import type { ListAuditEventsRequest as _maas_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _maas_v1_ListAuditEventsRequest__Output } from './maas/v1/ListAuditEventsRequest.js';
import type { ListAuditEventsResponse as _maas_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _maas_v1_ListAuditEventsResponse__Output } from './maas/v1/ListAuditEventsResponse.js';
import type { ListModelsRequest as _maas_v1_ListModelsRequest, ListModelsRequest__Output as _maas_v1_ListModelsRequest__Output } from './maas/v1/ListModelsRequest.js';
import type { ListModelsResponse as _maas_v1_ListModelsResponse, ListModelsResponse__Output as _maas_v1_ListModelsResponse__Output } from './maas/v1/ListModelsResponse.js';
import type { Model as _maas_v1_Model, Model__Output as _maas_v1_Model__Output } from './maas/v1/Model.js';
import type { ModelManifest as _maas_v1_ModelManifest, ModelManifest__Output as _maas_v1_ModelManifest__Output } from './maas/v1/ModelManifest.js';
import type { ModelRegistryClient as _maas_v1_ModelRegistryClient, ModelRegistryDefinition as _maas_v1_ModelRegistryDefinition } from './maas/v1/ModelRegistry.js';
import type { ModelVersion as _maas_v1_ModelVersion, ModelVersion__Output as _maas_v1_ModelVersion__Output } from './maas/v1/ModelVersion.js';
import type { RegisterVersionRequest as _maas_v1_RegisterVersionRequest, RegisterVersionRequest__Output as _maas_v1_RegisterVersionRequest__Output } from './maas/v1/RegisterVersionRequest.js';
import type { Rollout as _maas_v1_Rollout, Rollout__Output as _maas_v1_Rollout__Output } from './maas/v1/Rollout.js';
import type { RolloutChanged as _maas_v1_RolloutChanged, RolloutChanged__Output as _maas_v1_RolloutChanged__Output } from './maas/v1/RolloutChanged.js';
import type { SetAliasRequest as _maas_v1_SetAliasRequest, SetAliasRequest__Output as _maas_v1_SetAliasRequest__Output } from './maas/v1/SetAliasRequest.js';
import type { SetRolloutRequest as _maas_v1_SetRolloutRequest, SetRolloutRequest__Output as _maas_v1_SetRolloutRequest__Output } from './maas/v1/SetRolloutRequest.js';
import type { TensorSpec as _maas_v1_TensorSpec, TensorSpec__Output as _maas_v1_TensorSpec__Output } from './maas/v1/TensorSpec.js';
import type { TokenizerSpec as _maas_v1_TokenizerSpec, TokenizerSpec__Output as _maas_v1_TokenizerSpec__Output } from './maas/v1/TokenizerSpec.js';
import type { VersionRegistered as _maas_v1_VersionRegistered, VersionRegistered__Output as _maas_v1_VersionRegistered__Output } from './maas/v1/VersionRegistered.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  maas: {
    v1: {
      Alias: MessageTypeDefinition<_maas_v1_Alias, _maas_v1_Alias__Output>
      AliasChanged: MessageTypeDefinition<_maas_v1_AliasChanged, _maas_v1_AliasChanged__Output>
      Artifact: MessageTypeDefinition<_maas_v1_Artifact, _maas_v1_Artifact__Output>
      ArtifactChunk: MessageTypeDefinition<_maas_v1_ArtifactChunk, _maas_v1_ArtifactChunk__Output>
      ArtifactDamaged: MessageTypeDefinition<_maas_v1_ArtifactDamaged, _maas_v1_ArtifactDamaged__Output>
      AuditEvent: MessageTypeDefinition<_maas_v1_AuditEvent, _maas_v1_AuditEvent__Output>
      CheckStorageRequest: MessageTypeDefinition<_maas_v1_CheckStorageRequest, _maas_v1_CheckStorageRequest__Output>
      CheckStorageResponse: MessageTypeDefinition<_maas_v1_CheckStorageResponse, _maas_v1_CheckStorageResponse__Output>
      DamagedArtifact: MessageTypeDefinition<_maas_v1_DamagedArtifact, _maas_v1_DamagedArtifact__Output>
      DamagedArtifactUse: MessageTypeDefinition<_maas_v1_DamagedArtifactUse, _maas_v1_DamagedArtifactUse__Output>
      DownloadArtifactRequest: MessageTypeDefinition<_maas_v1_DownloadArtifactRequest, _maas_v1_DownloadArtifactRequest__Output>
      FileChunk: MessageTypeDefinition<_maas_v1_FileChunk, _maas_v1_FileChunk__Output>
      FileDigest: MessageTypeDefinition<_maas_v1_FileDigest, _maas_v1_FileDigest__Output>
      GetModelRequest: MessageTypeDefinition<_maas_v1_GetModelRequest, _maas_v1_GetModelRequest__Output>
      GetVersionRequest: MessageTypeDefinition<_maas_v1_GetVersionRequest, _maas_v1_GetVersionRequest__Output>
      ListAuditEventsRequest: MessageTypeDefinition<_maas_v1_ListAuditEventsRequest, _maas_v1_ListAuditEventsRequest__Output>
      ListAuditEventsResponse: MessageTypeDefinition<_maas_v1_ListAuditEventsResponse, _maas_v1_ListAuditEventsResponse__Output>
      ListModelsRequest: MessageTypeDefinition<_maas_v1_ListModelsRequest, _maas_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_maas_v1_ListModelsResponse, _maas_v1_ListModelsResponse__Output>
      Model: MessageTypeDefinition<_maas_v1_Model, _maas_v1_Model__Output>
      ModelManifest: MessageTypeDefinition<_maas_v1_ModelManifest, _maas_v1_ModelManifest__Output>
      ModelRegistry: SubtypeConstructor<typeof grpc.Client, _maas_v1_ModelRegistryClient> & { service: _maas_v1_ModelRegistryDefinition }
      ModelVersion: MessageTypeDefinition<_maas_v1_ModelVersion, _maas_v1_ModelVersion__Output>
      RegisterVersionRequest: MessageTypeDefinition<_maas_v1_RegisterVersionRequest, _maas_v1_RegisterVersionRequest__Output>
      Rollout: MessageTypeDefinition<_maas_v1_Rollout, _maas_v1_Rollout__Output>
      RolloutChanged: MessageTypeDefinition<_maas_v1_RolloutChanged, _maas_v1_RolloutChanged__Output>
      SetAliasRequest: MessageTypeDefinition<_maas_v1_SetAliasRequest, _maas_v1_SetAliasRequest__Output>
      SetRolloutRequest: MessageTypeDefinition<_maas_v1_SetRolloutRequest, _maas_v1_SetRolloutRequest__Output>
      TensorSpec: MessageTypeDefinition<_maas_v1_TensorSpec, _maas_v1_TensorSpec__Output>
      TokenizerSpec: MessageTypeDefinition<_maas_v1_TokenizerSpec, _maas_v1_TokenizerSpec__Output>
      VersionRegistered: MessageTypeDefinition<_maas_v1_VersionRegistered, _maas_v1_VersionRegistered__Output>
    }
  }
}

