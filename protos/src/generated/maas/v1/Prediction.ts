// Original file: maas/v1/gateway.proto


export interface Prediction {
  'label'?: (string);
  'score'?: (number | string);
  'model_version'?: (string);
}

export interface Prediction__Output {
  'label': (string);
  'score': (number);
  'model_version': (string);
}
