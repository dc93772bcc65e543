// Original file: maas/v1/tokenizer.proto


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
