// Original file: maas/v1/registry.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Alias as _maas_v1_Alias, Alias__Output as _maas_v1_Alias__Output } from '../../maas/v1/Alias.js';
import type { ArtifactChunk as _maas_v1_ArtifactChunk, ArtifactChunk__Output as _maas_v1_ArtifactChunk__Output } from '../../maas/v1/ArtifactChunk.js';
import type { CheckStorageRequest as _maas_v1_CheckStorageRequest, CheckStorageRequest__Output as _maas_v1_CheckStorageRequest__Output } from '../../maas/v1/CheckStorageRequest.js';
import type { CheckStorageResponse as _maas_v1_CheckStorageResponse, CheckStorageResponse__Output as _maas_v1_CheckStorageResponse__Output } from '../../maas/v1/CheckStorageResponse.js';
import type { DownloadArtifactRequest as _maas_v1_DownloadArtifactRequest, DownloadArtifactRequest__Output as _maas_v1_DownloadArtifactRequest__Output } from '../../maas/v1/DownloadArtifactRequest.js';
import type { GetModelRequest as _maas_v1_GetModelRequest, GetModelRequest__Output as _maas_v1_GetModelRequest__Output } from '../../maas/v1/GetModelRequest.js';
import type { GetVersionRequest as _maas_v1_GetVersionRequest, GetVersionRequest__Output as _maas_v1_GetVersionRequest__Output } from '../../maas/v1/GetVersionRequest.js';
import type { ListAuditEventsRequest as _maas_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _maas_v1_ListAuditEventsRequest__Output } from '../../maas/v1/ListAuditEventsRequest.js';
import type { ListAuditEventsResponse as _maas_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _maas_v1_ListAuditEventsResponse__Output } from '../../maas/v1/ListAuditEventsResponse.js';
import type { ListModelsRequest as _maas_v1_ListModelsRequest, ListModelsRequest__Output as _maas_v1_ListModelsRequest__Output } from '../../maas/v1/ListModelsRequest.js';
import type { ListModelsResponse as _maas_v1_ListModelsResponse, ListModelsResponse__Output as _maas_v1_ListModelsResponse__Output } from '../../maas/v1/ListModelsResponse.js';
import type { Model as _maas_v1_Model, Model__Output as _maas_v1_Model__Output } from '../../maas/v1/Model.js';
import type { ModelVersion as _maas_v1_ModelVersion, ModelVersion__Output as _maas_v1_ModelVersion__Output } from '../../maas/v1/ModelVersion.js';
import type { RegisterVersionRequest as _maas_v1_RegisterVersionRequest, RegisterVersionRequest__Output as _maas_v1_RegisterVersionRequest__Output } from '../../maas/v1/RegisterVersionRequest.js';
import type { Rollout as _maas_v1_Rollout, Rollout__Output as _maas_v1_Rollout__Output } from '../../maas/v1/Rollout.js';
import type { SetAliasRequest as _maas_v1_SetAliasRequest, SetAliasRequest__Output as _maas_v1_SetAliasRequest__Output } from '../../maas/v1/SetAliasRequest.js';
import type { SetRolloutRequest as _maas_v1_SetRolloutRequest, SetRolloutRequest__Output as _maas_v1_SetRolloutRequest__Output } from '../../maas/v1/SetRolloutRequest.js';

export interface ModelRegistryClient extends grpc.Client {
  CheckStorage(argument: _maas_v1_CheckStorageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  CheckStorage(argument: _maas_v1_CheckStorageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  CheckStorage(argument: _maas_v1_CheckStorageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  CheckStorage(argument: _maas_v1_CheckStorageRequest, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  checkStorage(argument: _maas_v1_CheckStorageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  checkStorage(argument: _maas_v1_CheckStorageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  checkStorage(argument: _maas_v1_CheckStorageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  checkStorage(argument: _maas_v1_CheckStorageRequest, callback: grpc.requestCallback<_maas_v1_CheckStorageResponse__Output>): grpc.ClientUnaryCall;
  
  DownloadArtifact(argument: _maas_v1_DownloadArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_maas_v1_ArtifactChunk__Output>;
  DownloadArtifact(argument: _maas_v1_DownloadArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_maas_v1_ArtifactChunk__Output>;
  downloadArtifact(argument: _maas_v1_DownloadArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_maas_v1_ArtifactChunk__Output>;
  downloadArtifact(argument: _maas_v1_DownloadArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_maas_v1_ArtifactChunk__Output>;
  
  GetModel(argument: _maas_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _maas_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _maas_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _maas_v1_GetModelRequest, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  getModel(argument: _maas_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  getModel(argument: _maas_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  getModel(argument: _maas_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  getModel(argument: _maas_v1_GetModelRequest, callback: grpc.requestCallback<_maas_v1_Model__Output>): grpc.ClientUnaryCall;
  
  GetVersion(argument: _maas_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _maas_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _maas_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _maas_v1_GetVersionRequest, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _maas_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _maas_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _maas_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _maas_v1_GetVersionRequest, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientUnaryCall;
  
  ListAuditEvents(argument: _maas_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _maas_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _maas_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _maas_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _maas_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _maas_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _maas_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _maas_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_maas_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  
  ListModels(argument: _maas_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _maas_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _maas_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _maas_v1_ListModelsRequest, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _maas_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _maas_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _maas_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _maas_v1_ListModelsRequest, callback: grpc.requestCallback<_maas_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
  RegisterVersion(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  RegisterVersion(metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  RegisterVersion(options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  RegisterVersion(callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  registerVersion(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  registerVersion(metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  registerVersion(options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  registerVersion(callback: grpc.requestCallback<_maas_v1_ModelVersion__Output>): grpc.ClientWritableStream<_maas_v1_RegisterVersionRequest>;
  
  SetAlias(argument: _maas_v1_SetAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  SetAlias(argument: _maas_v1_SetAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  SetAlias(argument: _maas_v1_SetAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  SetAlias(argument: _maas_v1_SetAliasRequest, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  setAlias(argument: _maas_v1_SetAliasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  setAlias(argument: _maas_v1_SetAliasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  setAlias(argument: _maas_v1_SetAliasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  setAlias(argument: _maas_v1_SetAliasRequest, callback: grpc.requestCallback<_maas_v1_Alias__Output>): grpc.ClientUnaryCall;
  
  SetRollout(argument: _maas_v1_SetRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  SetRollout(argument: _maas_v1_SetRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  SetRollout(argument: _maas_v1_SetRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  SetRollout(argument: _maas_v1_SetRolloutRequest, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  setRollout(argument: _maas_v1_SetRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  setRollout(argument: _maas_v1_SetRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  setRollout(argument: _maas_v1_SetRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  setRollout(argument: _maas_v1_SetRolloutRequest, callback: grpc.requestCallback<_maas_v1_Rollout__Output>): grpc.ClientUnaryCall;
  
}

export interface ModelRegistryHandlers extends grpc.UntypedServiceImplementation {
  CheckStorage: grpc.handleUnaryCall<_maas_v1_CheckStorageRequest__Output, _maas_v1_CheckStorageResponse>;
  
  DownloadArtifact: grpc.handleServerStreamingCall<_maas_v1_DownloadArtifactRequest__Output, _maas_v1_ArtifactChunk>;
  
  GetModel: grpc.handleUnaryCall<_maas_v1_GetModelRequest__Output, _maas_v1_Model>;
  
  GetVersion: grpc.handleUnaryCall<_maas_v1_GetVersionRequest__Output, _maas_v1_ModelVersion>;
  
  ListAuditEvents: grpc.handleUnaryCall<_maas_v1_ListAuditEventsRequest__Output, _maas_v1_ListAuditEventsResponse>;
  
  ListModels: grpc.handleUnaryCall<_maas_v1_ListModelsRequest__Output, _maas_v1_ListModelsResponse>;
  
  RegisterVersion: grpc.handleClientStreamingCall<_maas_v1_RegisterVersionRequest__Output, _maas_v1_ModelVersion>;
  
  SetAlias: grpc.handleUnaryCall<_maas_v1_SetAliasRequest__Output, _maas_v1_Alias>;
  
  SetRollout: grpc.handleUnaryCall<_maas_v1_SetRolloutRequest__Output, _maas_v1_Rollout>;
  
}

export interface ModelRegistryDefinition extends grpc.ServiceDefinition {
  CheckStorage: MethodDefinition<_maas_v1_CheckStorageRequest, _maas_v1_CheckStorageResponse, _maas_v1_CheckStorageRequest__Output, _maas_v1_CheckStorageResponse__Output>
  DownloadArtifact: MethodDefinition<_maas_v1_DownloadArtifactRequest, _maas_v1_ArtifactChunk, _maas_v1_DownloadArtifactRequest__Output, _maas_v1_ArtifactChunk__Output>
  GetModel: MethodDefinition<_maas_v1_GetModelRequest, _maas_v1_Model, _maas_v1_GetModelRequest__Output, _maas_v1_Model__Output>
  GetVersion: MethodDefinition<_maas_v1_GetVersionRequest, _maas_v1_ModelVersion, _maas_v1_GetVersionRequest__Output, _maas_v1_ModelVersion__Output>
  ListAuditEvents: MethodDefinition<_maas_v1_ListAuditEventsRequest, _maas_v1_ListAuditEventsResponse, _maas_v1_ListAuditEventsRequest__Output, _maas_v1_ListAuditEventsResponse__Output>
  ListModels: MethodDefinition<_maas_v1_ListModelsRequest, _maas_v1_ListModelsResponse, _maas_v1_ListModelsRequest__Output, _maas_v1_ListModelsResponse__Output>
  RegisterVersion: MethodDefinition<_maas_v1_RegisterVersionRequest, _maas_v1_ModelVersion, _maas_v1_RegisterVersionRequest__Output, _maas_v1_ModelVersion__Output>
  SetAlias: MethodDefinition<_maas_v1_SetAliasRequest, _maas_v1_Alias, _maas_v1_SetAliasRequest__Output, _maas_v1_Alias__Output>
  SetRollout: MethodDefinition<_maas_v1_SetRolloutRequest, _maas_v1_Rollout, _maas_v1_SetRolloutRequest__Output, _maas_v1_Rollout__Output>
}
