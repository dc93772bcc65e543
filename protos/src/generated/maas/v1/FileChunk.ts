// Original file: maas/v1/registry.proto


export interface FileChunk {
  'path'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface FileChunk__Output {
  'path': (string);
  'data': (Buffer);
}
