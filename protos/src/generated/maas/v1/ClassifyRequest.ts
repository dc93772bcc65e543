// Original file: maas/v1/gateway.proto


export interface ClassifyRequest {
  'model'?: (string);
  'texts'?: (string)[];
  'routing_key'?: (string);
  'version'?: (string);
}

export interface ClassifyRequest__Output {
  'model': (string);
  'texts': (string)[];
  'routing_key': (string);
  'version': (string);
}
