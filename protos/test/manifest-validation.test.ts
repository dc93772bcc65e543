import test from 'ava';
import type { ModelManifest } from '../src/index.js';
import { canonicalManifestJson, inputProblems, packagePathProblem, tokenizerProblems, validateManifest } from '../src/manifest-validation.js';
import { EXAMPLE_MANIFESTS, testManifest } from '../../test/support/model-packages.js';

const sha = (digit: string) => digit.repeat(64);

/** An encoder-bench-like manifest with a nested tokenizer file and sizes the limits test below relies on. */
function validManifest(): ModelManifest {
  return testManifest({
    ...EXAMPLE_MANIFESTS.encoderBench,
    name: 'sentiment',
    version: '2024-05-01',
    tokenizer: { ...EXAMPLE_MANIFESTS.encoderBench.tokenizer, file: 'tok/tokenizer.json' },
    files: [
      { path: 'model.onnx', sha256: sha('a'), size_bytes: 1000 },
      { path: 'tok/tokenizer.json', sha256: sha('b'), size_bytes: 20 },
    ],
    metrics: { accuracy: 0.9 },
  });
}

function problemsOf(input: unknown, limits = {}): string[] {
  const result = validateManifest(input, limits);
  return result.ok ? [] : result.problems;
}

test('a complete manifest is valid and comes back normalized, defaults filled', (t) => {
  const { description, ...input } = validManifest();
  t.is(description, '');
  input.outputs = [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }];
  const result = validateManifest(input);
  if (!result.ok) return t.fail(result.problems.join('\n'));
  t.is(result.manifest.name, 'sentiment');
  t.is(result.manifest.description, '');
  t.deepEqual(result.manifest.outputs[0], { name: 'logits', datatype: 'FP32', shape: [-1, 2], role: '' });
});

test('every problem is reported at once, each naming its field', (t) => {
  const manifest = validManifest();
  manifest.format_version = 2;
  manifest.name = 'Sentiment_Model';
  manifest.version = '..';
  manifest.task = 'translation';
  manifest.output_activation = 'relu';
  manifest.model_file = 'missing.onnx';
  manifest.inputs = [{ name: 'x', datatype: 'FLOAT', shape: [1, 128], role: 'pixels' }];
  manifest.outputs = [];
  manifest.labels = ['a', 'a'];
  manifest.files = [{ path: '../escape.bin', sha256: 'ABC', size_bytes: -1 }];
  manifest.metrics = { accuracy: 'high' as unknown as number };
  const problems = problemsOf(manifest);
  for (const field of [
    'format_version:',
    'name:',
    'version:',
    'task:',
    'output_activation:',
    'model_file:',
    'inputs[0].datatype:',
    'inputs[0].shape:',
    'inputs[0].role:',
    'inputs: one input must have role input_ids',
    'outputs:',
    'labels[1]:',
    'files[0].path:',
    'files[0].sha256:',
    'files[0].size_bytes:',
    'tokenizer.file:',
    'metrics["accuracy"]:',
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

test('an evaluation_file is optional and, when given, must be one of the listed files', (t) => {
  t.deepEqual(problemsOf({ ...validManifest(), evaluation_file: '' }), []);
  const listed = validManifest();
  listed.files!.push({ path: 'eval/test.jsonl', sha256: sha('c'), size_bytes: 10 });
  const result = validateManifest({ ...listed, evaluation_file: 'eval/test.jsonl' });
  t.true(result.ok && result.manifest.evaluation_file === 'eval/test.jsonl');
  t.deepEqual(problemsOf({ ...validManifest(), evaluation_file: 'eval/test.jsonl' }), ['evaluation_file: "eval/test.jsonl" is not listed in files']);
  t.deepEqual(problemsOf({ ...validManifest(), evaluation_file: 7 }), ['evaluation_file: must be a string']);
});

test('the tokenizer is required and checked', (t) => {
  t.true(problemsOf({ ...validManifest(), tokenizer: null }).includes('tokenizer: is required'));
  const problems = problemsOf({
    ...validManifest(),
    tokenizer: { kind: 'bpe', file: 'tok/tokenizer.json', max_length: 0, padding_side: 'left', truncation_side: 'pre', pad_id: -1 },
  });
  for (const field of ['tokenizer.kind:', 'tokenizer.max_length:', 'tokenizer.padding_side:', 'tokenizer.pad_id:'])
    t.true(
      problems.some((problem) => problem.startsWith(field)),
      field,
    );
});

test('the tokenizer and input rules apply on their own, as the tokenizer service uses them', (t) => {
  const manifest = testManifest();
  t.deepEqual(tokenizerProblems(manifest.tokenizer), []);
  t.deepEqual(inputProblems(manifest), []);
  t.deepEqual(tokenizerProblems(null), ['tokenizer: is required']);
  // Without the package's file list the tokenizer file is not looked up; with it, it must be listed.
  t.deepEqual(tokenizerProblems(manifest.tokenizer, new Set(['model.onnx'])), ['tokenizer.file: "tokenizer.json" is not listed in files']);
  t.deepEqual(inputProblems({ ...manifest, inputs: [{ name: 'mask', datatype: 'FP32', shape: [-1, 64], role: 'attention_mask' }] }), [
    'inputs[0].datatype: token inputs must be INT32 or INT64 (got FP32)',
    'inputs[0].shape: sequence dimension 64 differs from tokenizer.max_length 100',
    'inputs: one input must have role input_ids',
  ]);
});

test('labels must match a fixed score width, and a single score needs two labels', (t) => {
  t.true(problemsOf({ ...validManifest(), labels: ['a', 'b', 'c'] }).some((problem) => problem.includes('2 scores per row but 3 labels')));
  const single = { ...validManifest(), outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 1] }], labels: ['yes'], output_activation: 'sigmoid' };
  t.true(problemsOf(single).some((problem) => problem.startsWith('labels:') && problem.includes('exactly 2')));
  t.deepEqual(problemsOf({ ...single, labels: ['no', 'yes'] }), []);
  t.true(problemsOf({ ...single, labels: ['no', 'yes'], output_activation: 'softmax' }).some((problem) => problem.startsWith('output_activation:')));
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
  t.deepEqual(problemsOf([]), ['manifest: must be an object']);
});

test('canonical JSON has sorted keys at every level and is stable', (t) => {
  const result = validateManifest(validManifest());
  if (!result.ok) return t.fail();
  const text = canonicalManifestJson(result.manifest);
  t.is(text, canonicalManifestJson(JSON.parse(text)));
  t.true(text.startsWith('{"description":"","files":[{"path":"model.onnx","sha256":'));
  // An empty evaluation_file is left out (packages without one keep their bytes); a set one is written.
  t.false(text.includes('evaluation_file'));
  t.true(canonicalManifestJson({ ...result.manifest, evaluation_file: 'model.onnx' }).startsWith('{"description":"","evaluation_file":"model.onnx","files":'));
  t.false(text.includes(' '));
  t.deepEqual(validateManifest(JSON.parse(text)), result);
});

test('an INT32 input_ids must hold the pad id: the registry refuses what the tokenizer could never load (found by the RegisterVersion fuzz)', (t) => {
  const withPadId = (pad_id: number, datatype: string) => {
    const manifest = validManifest();
    return { ...manifest, tokenizer: { ...manifest.tokenizer!, pad_id }, inputs: manifest.inputs!.map((input) => ({ ...input, datatype })) };
  };
  // 4294967295 is what a uint32 pad_id of -1 arrives as.
  t.deepEqual(problemsOf(withPadId(4294967295, 'INT32')), [
    'inputs[0].datatype: INT32 cannot hold tokenizer.pad_id 4294967295 (at most 2147483647; use INT64)',
  ]);
  t.deepEqual(problemsOf(withPadId(2 ** 31, 'INT32')), ['inputs[0].datatype: INT32 cannot hold tokenizer.pad_id 2147483648 (at most 2147483647; use INT64)']);
  t.deepEqual(problemsOf(withPadId(2 ** 31 - 1, 'INT32')), []);
  t.deepEqual(problemsOf(withPadId(4294967295, 'INT64')), []);
});
