// Original file: maas/v1/registry.proto

import type { AuditEvent as _maas_v1_AuditEvent, AuditEvent__Output as _maas_v1_AuditEvent__Output } from '../../maas/v1/AuditEvent.js';

export interface ListAuditEventsResponse {
  'events'?: (_maas_v1_AuditEvent)[];
}

export interface ListAuditEventsResponse__Output {
  'events': (_maas_v1_AuditEvent__Output)[];
}
