// Original file: /work/main/protos/maas/v1/tokenizer.proto


export interface EncodeRequest {
  'model'?: (string);
  'version'?: (string);
  'texts'?: (string)[];
}

export interface EncodeRequest__Output {
  'model': (string);
  'version': (string);
  'texts': (string)[];
}
