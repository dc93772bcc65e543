import test from 'ava';
import type { ModelManifest } from '@maas/protos';
import { canonicalManifestJson, packagePathProblem, validateManifest } from '../src/manifest-validation.js';
import { summarizeProblems } from '../src/package-receiver.js';

const sha = (digit: string) => digit.repeat(64);

function validManifest(): ModelManifest {
  return {
    format_version: 1,
    name: 'sentiment',
    version: '2024-05-01',
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    model_file: 'model.onnx',
    inputs: [
      { name: 'input_ids', datatype: 'INT64', shape: [-1, 128], role: 'input_ids' },
      { name: 'attention_mask', datatype: 'INT64', shape: [-1, 128], role: 'attention_mask' },
    ],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
    tokenizer: { kind: 'huggingface', file: 'tok/tokenizer.json', max_length: 128, padding_side: 'post', truncation_side: 'post', pad_id: 0 },
    labels: ['negative', 'positive'],
    output_activation: 'softmax',
    files: [
      { path: 'model.onnx', sha256: sha('a'), size_bytes: 1000 },
      { path: 'tok/tokenizer.json', sha256: sha('b'), size_bytes: 20 },
    ],
    metrics: { accuracy: 0.9 },
  };
}

function problemsOf(input: unknown, limits = {}): string[] {
  const result = validateManifest(input, limits);
  return result.ok ? [] : result.problems;
}

test('a complete manifest is valid and comes back normalized', (t) => {
  const result = validateManifest(validManifest());
  if (!result.ok) return t.fail(result.problems.join('\n'));
  t.is(result.manifest.name, 'sentiment');
  t.is(result.manifest.description, '');
  t.deepEqual(result.manifest.outputs[0], { name: 'logits', datatype: 'FP32', shape: [-1, 2], role: '' });
});

test('every problem is reported at once, each naming its field', (t) => {
  const manifest = validManifest();
  manifest.name = 'Sentiment_Model';
  manifest.version = '..';
  manifest.task = 'translation';
  manifest.output_activation = 'relu';
  manifest.model_file = 'missing.onnx';
  manifest.inputs = [{ name: 'x', datatype: 'FLOAT', shape: [1, 128], role: 'pixels' }];
  manifest.outputs = [];
  manifest.labels = ['a', 'a'];
  manifest.files = [{ path: '../escape.bin', sha256: 'ABC', size_bytes: 1 }];
  const problems = problemsOf(manifest);
  for (const field of [
    'name:',
    'version:',
    'task:',
    'output_activation:',
    'model_file:',
    'inputs[0].datatype:',
    'inputs[0].shape:',
    'inputs[0].role:',
    'outputs:',
    'labels[1]:',
    'files[0].path:',
    'files[0].sha256:',
    'tokenizer.file:',
  ]) {
    t.true(
      problems.some((problem) => problem.startsWith(field)),
      `expected a problem for ${field} in:\n${problems.join('\n')}`,
    );
  }
});

test('package paths must stay inside the package', (t) => {
  for (const bad of ['/etc/passwd', '../x', 'a/../b', './a', 'a//b', 'a\\b', 'C:/x', '', 'a b']) t.truthy(packagePathProblem(bad), bad);
  for (const good of ['model.onnx', 'tokenizer/vocab.txt', 'a-b_c.1/d']) t.is(packagePathProblem(good), undefined, good);
});

test('maas.json itself and duplicate paths may not be listed as files', (t) => {
  const manifest = validManifest();
  manifest.files!.push({ path: 'maas.json', sha256: sha('c'), size_bytes: 1 }, { path: 'model.onnx', sha256: sha('d'), size_bytes: 1 });
  const problems = problemsOf(manifest);
  t.true(problems.some((problem) => problem.startsWith('files[2].path:') && problem.includes('maas.json')));
  t.true(problems.some((problem) => problem.startsWith('files[3].path:') && problem.includes('twice')));
});

test('the tokenizer is required and checked', (t) => {
  t.true(problemsOf({ ...validManifest(), tokenizer: null }).includes('tokenizer: is required'));
  const problems = problemsOf({ ...validManifest(), tokenizer: { kind: 'bpe', file: 'tok/tokenizer.json', max_length: 0, padding_side: 'left', truncation_side: 'pre', pad_id: -1 } });
  for (const field of ['tokenizer.kind:', 'tokenizer.max_length:', 'tokenizer.padding_side:', 'tokenizer.pad_id:']) t.true(problems.some((problem) => problem.startsWith(field)), field);
});

test('labels must match a fixed score width, and a single score needs two labels', (t) => {
  t.true(problemsOf({ ...validManifest(), labels: ['a', 'b', 'c'] }).some((problem) => problem.includes('2 scores per row but 3 labels')));
  const single = { ...validManifest(), outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 1] }], labels: ['yes'], output_activation: 'sigmoid' };
  t.true(problemsOf(single).some((problem) => problem.startsWith('labels:') && problem.includes('exactly 2')));
  t.deepEqual(problemsOf({ ...single, labels: ['no', 'yes'] }), []);
});

test('the sequence dimension of an input must agree with tokenizer.max_length', (t) => {
  const manifest = validManifest();
  manifest.inputs![1]!.shape = [-1, 64];
  t.true(problemsOf(manifest).some((problem) => problem.startsWith('inputs[1].shape:') && problem.includes('max_length')));
});

test('declared sizes are held to the limits', (t) => {
  const problems = problemsOf(validManifest(), { maxFileBytes: 500, maxPackageBytes: 900 });
  t.true(problems.some((problem) => problem.startsWith('files[0].size_bytes:') && problem.includes('500')));
  t.true(problems.some((problem) => problem.startsWith('files:') && problem.includes('900')));
  t.deepEqual(problemsOf(validManifest(), { maxFileBytes: 1000, maxPackageBytes: 1020 }), []);
});

test('proto3 JSON (int64 as strings) is accepted, wrong types are reported', (t) => {
  const json = JSON.parse(JSON.stringify(validManifest())) as Record<string, unknown>;
  (json.files as Array<Record<string, unknown>>)[0]!.size_bytes = '1000';
  t.deepEqual(problemsOf(json), []);
  t.true(problemsOf({ ...validManifest(), name: 42 }).some((problem) => problem.startsWith('name: must be a string')));
  t.deepEqual(problemsOf('not an object'), ['manifest: must be an object']);
});

test('canonical JSON has sorted keys at every level and is stable', (t) => {
  const result = validateManifest(validManifest());
  if (!result.ok) return t.fail();
  const text = canonicalManifestJson(result.manifest);
  t.is(text, canonicalManifestJson(JSON.parse(text)));
  t.true(text.startsWith('{"description":"","files":[{"path":"model.onnx","sha256":'));
  t.false(text.includes(' '));
  t.deepEqual(JSON.parse(text), result.manifest);
});

test('a long list of problems is cut to fit a status message, saying how many were left out', (t) => {
  const problems = Array.from({ length: 1000 }, (_, index) => `files[${index}].sha256: must be 64 lowercase hex digits`);
  const text = summarizeProblems(problems);
  t.true(text.length < 4_100);
  t.true(text.startsWith('files[0].sha256'));
  t.regex(text, /… and \d+ more problems$/);
  t.is(summarizeProblems(['a', 'b']), 'a; b');
});
