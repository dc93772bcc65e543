// Original file: maas/v1/registry.proto


export interface ListAuditEventsRequest {
  'model'?: (string);
  'limit'?: (number);
}

export interface ListAuditEventsRequest__Output {
  'model': (string);
  'limit': (number);
}
