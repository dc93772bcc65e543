import test from 'ava';
import { parseEvaluationSet } from '@maas/model-evaluation';
import { KerasTokenizer } from '@maas/keras-tokenizer';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest, type ModelManifest__Output } from '@maas/protos';
import { buildModelRepository, type BuildModelRepositoryOptions, type BuildModelRepositoryResult } from '../src/build-repository.js';
import type { MaasManifest } from '../src/package/manifest.js';
import { verifyModelPackage } from '../src/package/model-package.js';
import { EXAMPLE_MANIFESTS, sha256Hex } from '../../test/support/model-packages.js';
import { tinySentimentDataset, toJsonl } from './fixtures/tiny-sentiment.js';

// A small but complete build: tiny data, few epochs and a narrow encoder keep it fast; the shapes
// that matter to the manifest (100 ids, 128 positions, 2 labels) are the shipped ones.
let root: string;
let result: BuildModelRepositoryResult;
let options: BuildModelRepositoryOptions;
const logLines: string[] = [];

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'maas-models-'));
  const dataDir = join(root, 'data');
  await mkdir(dataDir);
  await writeFile(join(dataDir, 'train.jsonl'), toJsonl(tinySentimentDataset({ count: 300, seed: 1 })));
  await writeFile(join(dataDir, 'test.jsonl'), toJsonl(tinySentimentDataset({ count: 100, seed: 2 })));
  options = {
    outDir: join(root, 'repo'),
    dataDir,
    log: (line) => logLines.push(line),
    training: { epochs: 8, optimizer: { kind: 'adam', learningRate: 0.01 } },
    encoder: { layers: 1, hiddenSize: 32, heads: 2, intermediateSize: 64, maxVocabSize: 300 },
  };
  result = await buildModelRepository(options);
});

test.after.always(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function manifestOf(model: string, version: string): Promise<MaasManifest> {
  return JSON.parse(await readFile(join(options.outDir, model, version, 'maas.json'), 'utf8')) as MaasManifest;
}

/** The manifest as the registry will take it (defaults filled), failing the test when the contract refuses it. */
function contractValid(manifest: MaasManifest): ModelManifest__Output {
  const result = validateManifest(manifest);
  if (!result.ok) throw new Error(`invalid manifest: ${result.problems.join('; ')}`);
  return result.manifest;
}

const KEY_ORDER = [
  'format_version',
  'name',
  'version',
  'task',
  'platform',
  'description',
  'model_file',
  'inputs',
  'outputs',
  'tokenizer',
  'labels',
  'output_activation',
  'files',
  'metrics',
];

test('writes sentiment/1, sentiment/2 and encoder-bench/1', async (t) => {
  t.deepEqual(
    result.packages.map((p) => `${p.name}/${p.version}`),
    ['sentiment/1', 'sentiment/2', 'encoder-bench/1'],
  );
  t.deepEqual((await readdir(options.outDir)).sort(), ['encoder-bench', 'sentiment']);
  t.deepEqual((await readdir(join(options.outDir, 'sentiment'))).sort(), ['1', '2']);
  t.true(
    logLines.some((l) => /^ +epoch +1\/8 +loss/.test(l)),
    'progress lines',
  );
  t.true(logLines.some((l) => l.startsWith('training time:')));
});

test('sentiment manifests have the documented fields and values', async (t) => {
  for (const version of ['1', '2']) {
    const m = await manifestOf('sentiment', version);
    t.deepEqual(Object.keys(m), [...KEY_ORDER, 'evaluation_file']);
    t.like(contractValid(m), { ...EXAMPLE_MANIFESTS.sentiment, version, evaluation_file: 'evaluation.jsonl' });
    t.deepEqual(
      m.files.map((f) => f.path),
      ['model.onnx', 'tokenizer.json', 'metrics.json', 'evaluation.jsonl'],
    );
    // The evaluation set is the test split the metrics were computed on, with the manifest's label names.
    const evaluation = parseEvaluationSet(await readFile(join(options.outDir, 'sentiment', version, 'evaluation.jsonl'), 'utf8'), { labels: m.labels });
    t.is(evaluation.texts.length, 100);
    t.deepEqual(Object.keys(m.metrics), ['accuracy', 'precision', 'recall', 'f1']);
    const metrics = JSON.parse(await readFile(join(options.outDir, 'sentiment', version, 'metrics.json'), 'utf8'));
    t.is(metrics.accuracy, m.metrics.accuracy);
    t.is(metrics.examples, 100);
    const [[tn, fp], [fn, tp]] = metrics.confusion_matrix.matrix as [[number, number], [number, number]];
    t.is(tn + fp + fn + tp, 100);
    t.true(Math.abs(m.metrics.accuracy! - (tn + tp) / 100) < 1e-6);
  }
  t.regex((await manifestOf('sentiment', '1')).description, /fp32/);
  t.regex((await manifestOf('sentiment', '2')).description, /int8/);
  const int8Metrics = JSON.parse(await readFile(join(options.outDir, 'sentiment', '2', 'metrics.json'), 'utf8'));
  t.is(int8Metrics.agreement_with_fp32, Math.round(result.sentiment.int8Agreement * 1e6) / 1e6);
});

test('encoder-bench manifest describes two inputs, logits and a Hugging Face tokenizer', async (t) => {
  const m = await manifestOf('encoder-bench', '1');
  t.deepEqual(Object.keys(m), KEY_ORDER);
  t.like(contractValid(m), { ...EXAMPLE_MANIFESTS.encoderBench, version: '1', metrics: {} });
  t.deepEqual(
    m.files.map((f) => f.path),
    ['model.onnx', 'tokenizer.json'],
  );
});

test('files lists every file but maas.json, with matching sha256 and size', async (t) => {
  for (const p of result.packages) {
    const m = await manifestOf(p.name, p.version);
    t.deepEqual((await readdir(p.dir)).sort(), [...m.files.map((f) => f.path), 'maas.json'].sort());
    for (const f of m.files) {
      const data = await readFile(join(p.dir, f.path));
      t.is(f.size_bytes, data.byteLength, `${p.name}/${p.version}/${f.path} size`);
      t.is(f.sha256, sha256Hex(data), `${p.name}/${p.version}/${f.path} sha256`);
    }
    t.deepEqual((await verifyModelPackage(p.dir)).problems, []);
  }
});

test('the packaged files load: ONNX in onnxruntime, tokenizers in their libraries', async (t) => {
  const s1 = join(options.outDir, 'sentiment', '1');
  const keras = KerasTokenizer.fromJson(await readFile(join(s1, 'tokenizer.json'), 'utf8'));
  t.true(keras.textsToSequences(['the movie was great'])[0]!.length > 0);
  for (const version of ['1', '2']) {
    const session = await ort.InferenceSession.create(join(options.outDir, 'sentiment', version, 'model.onnx'));
    const ids = new BigInt64Array(2 * 100);
    const out = await session.run({ input_ids: new ort.Tensor('int64', ids, [2, 100]) });
    t.deepEqual(out.probability!.dims, [2, 1]);
    await session.release();
  }
  const e1 = join(options.outDir, 'encoder-bench', '1');
  const hf = new Tokenizer(JSON.parse(await readFile(join(e1, 'tokenizer.json'), 'utf8')), {});
  t.deepEqual(hf.encode('great movie').tokens.slice(0, 1), ['[CLS]']);
  const session = await ort.InferenceSession.create(join(e1, 'model.onnx'));
  t.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
  await session.release();
});

test('verification catches a changed file and a missing file', async (t) => {
  const copy = join(root, 'tampered');
  await mkdir(copy);
  const source = join(options.outDir, 'sentiment', '1');
  for (const name of await readdir(source)) await writeFile(join(copy, name), await readFile(join(source, name)));
  const metrics = await readFile(join(copy, 'metrics.json'));
  metrics[10] = metrics[10]! ^ 1;
  await writeFile(join(copy, 'metrics.json'), metrics);
  await rm(join(copy, 'tokenizer.json'));
  const { problems } = await verifyModelPackage(copy);
  t.deepEqual(problems, ['files: tokenizer.json is missing', 'files: metrics.json sha256 does not match']);
});

test('the build is deterministic: a second build gives the same bytes', async (t) => {
  const again = await buildModelRepository({ ...options, outDir: join(root, 'repo-again'), log: undefined });
  for (const [i, p] of again.packages.entries()) {
    t.is(await readFile(join(p.dir, 'maas.json'), 'utf8'), await readFile(join(result.packages[i]!.dir, 'maas.json'), 'utf8'));
  }
});

test('a missing data set is reported with its folder', async (t) => {
  await t.throwsAsync(buildModelRepository({ outDir: join(root, 'nothing'), dataDir: join(root, 'no-data') }), {
    message: /sentiment data set not found in .*no-data/,
  });
});
