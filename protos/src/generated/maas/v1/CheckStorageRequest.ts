// Original file: maas/v1/registry.proto


export interface CheckStorageRequest {
  'repair'?: (boolean);
}

export interface CheckStorageRequest__Output {
  'repair': (boolean);
}
