// Original file: maas/v1/events.proto

import type { Rollout as _maas_v1_Rollout, Rollout__Output as _maas_v1_Rollout__Output } from '../../maas/v1/Rollout.js';
import type { Long } from '@grpc/proto-loader';

export interface RolloutChanged {
  'revision'?: (number | string | Long);
  'model'?: (string);
  'rollout'?: (_maas_v1_Rollout | null);
  'occurred_at'?: (string);
}

export interface RolloutChanged__Output {
  'revision': (number);
  'model': (string);
  'rollout': (_maas_v1_Rollout__Output | null);
  'occurred_at': (string);
}
