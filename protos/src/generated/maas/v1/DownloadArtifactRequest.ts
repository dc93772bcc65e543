// Original file: maas/v1/registry.proto


export interface DownloadArtifactRequest {
  'model'?: (string);
  'version'?: (string);
  'path'?: (string);
}

export interface DownloadArtifactRequest__Output {
  'model': (string);
  'version': (string);
  'path': (string);
}
