// Original file: maas/v1/tokenizer.proto


export interface EncodeRequest {
  'model'?: (string);
  'version'?: (string);
  'texts'?: (string)[];
  'narrow_integers'?: (boolean);
}

export interface EncodeRequest__Output {
  'model': (string);
  'version': (string);
  'texts': (string)[];
  'narrow_integers': (boolean);
}
