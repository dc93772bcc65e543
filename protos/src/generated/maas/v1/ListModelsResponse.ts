// Original file: maas/v1/registry.proto

import type { Model as _maas_v1_Model, Model__Output as _maas_v1_Model__Output } from '../../maas/v1/Model.js';
import type { Long } from '@grpc/proto-loader';

export interface ListModelsResponse {
  'models'?: (_maas_v1_Model)[];
  'revision'?: (number | string | Long);
}

export interface ListModelsResponse__Output {
  'models': (_maas_v1_Model__Output)[];
  'revision': (number);
}
