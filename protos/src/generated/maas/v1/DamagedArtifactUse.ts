// Original file: maas/v1/registry.proto


export interface DamagedArtifactUse {
  'model'?: (string);
  'version'?: (string);
  'path'?: (string);
}

export interface DamagedArtifactUse__Output {
  'model': (string);
  'version': (string);
  'path': (string);
}
