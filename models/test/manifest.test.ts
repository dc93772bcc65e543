import test from 'ava';
import { manifestProblems, type MaasManifest } from '../src/package/manifest.js';

const valid: MaasManifest = {
  format_version: 1,
  name: 'my-model',
  version: '2024-05-01',
  task: 'text-classification',
  platform: 'onnxruntime_onnx',
  description: '',
  model_file: 'model.onnx',
  inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [-1, 64], role: 'input_ids' }],
  outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 3] }],
  tokenizer: { kind: 'huggingface', file: 'tokenizer.json', max_length: 64, padding_side: 'post', truncation_side: 'post', pad_id: 0 },
  labels: ['a', 'b', 'c'],
  output_activation: 'softmax',
  files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), size_bytes: 10 }],
  metrics: {},
};

test('a valid manifest has no problems', (t) => {
  t.deepEqual(manifestProblems(valid), []);
});

test('every bad field is reported, not just the first', (t) => {
  const bad = {
    ...valid,
    format_version: 2,
    name: 'My_Model',
    inputs: [{ name: 'input_ids', datatype: 'LONG', shape: [-1, 'n'], role: 'ids' }],
    tokenizer: { ...valid.tokenizer, kind: 'spacy', padding_side: 'left', max_length: 0 },
    output_activation: 'relu',
    files: [{ path: 'model.onnx', sha256: 'ABC', size_bytes: -1 }],
    metrics: { accuracy: 'high' },
  };
  t.deepEqual(manifestProblems(bad), [
    'format_version must be 1',
    'name must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit',
    'inputs[0].datatype must be one of BOOL, UINT8, INT8, INT32, INT64, FP16, FP32, FP64, BYTES',
    'inputs[0].shape must be an array of integers (-1 for dynamic)',
    'inputs[0].role must be one of input_ids, attention_mask, token_type_ids (inputs only)',
    'tokenizer.kind must be keras or huggingface',
    'tokenizer.max_length must be an integer ≥ 1',
    'tokenizer.padding_side must be pre or post',
    'output_activation must be one of none, sigmoid, softmax',
    'files[0].sha256 must be 64 lowercase hex digits',
    'files[0].size_bytes must be an integer ≥ 0',
    'metrics must be an object of numbers',
  ]);
  t.deepEqual(manifestProblems([]), ['manifest must be a JSON object']);
});
