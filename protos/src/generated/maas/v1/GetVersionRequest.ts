// Original file: maas/v1/registry.proto


export interface GetVersionRequest {
  'model'?: (string);
  'version'?: (string);
}

export interface GetVersionRequest__Output {
  'model': (string);
  'version': (string);
}
