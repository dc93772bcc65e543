// Original file: maas/v1/gateway.proto

import type { Prediction as _maas_v1_Prediction, Prediction__Output as _maas_v1_Prediction__Output } from '../../maas/v1/Prediction.js';

export interface ClassifyResponse {
  'predictions'?: (_maas_v1_Prediction)[];
}

export interface ClassifyResponse__Output {
  'predictions': (_maas_v1_Prediction__Output)[];
}
