/**
 * ModelInfer throughput: 1-row raw requests at a fixed number in flight against the real inference service
 * (compiled dist/main.js in its own process) loading its model from the real registry (another process),
 * once with dynamic batching (the defaults) and once without (MAX_BATCH_SIZE=1). Not a test: prints numbers.
 *
 *   npm run build && npx tsx services/inference/bench/model-infer-throughput.ts
 *
 * Env: BENCH_SECONDS (default 10), BENCH_IN_FLIGHT (64), BENCH_MODEL_DIR (default models/dist/sentiment/1;
 * when absent a tiny stand-in classifier is used and the output says so), BENCH_INFERENCE_NODE_ARGS (extra node
 * flags for the inference process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { contracts, type GRPCInferenceServiceClient, type ModelInferRequest, type ModelInferResponse__Output, type ModelRegistryClient } from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import { classifierManifest, registerPackage, registerPackageDir, setRollout, TOKENIZER_FILE } from '../test/helpers/registry-fixture.js';
import { tinyClassifier } from '../test/helpers/tiny-onnx.js';

const ROOT = path.resolve(__dirname, '../../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const MODEL_DIR = path.resolve(ROOT, process.env.BENCH_MODEL_DIR ?? 'models/dist/sentiment/1');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function startProcess(script: string, env: Record<string, string>): ChildProcess {
  const nodeArgs = script.includes('inference') && process.env.BENCH_INFERENCE_NODE_ARGS ? process.env.BENCH_INFERENCE_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, script)], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`${script} exited (${code ?? signal})`);
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface BenchModel {
  name: string;
  /** Every input: name, sequence length, and whether it is an attention mask (filled with 1s). */
  inputs: Array<{ name: string; seq: number; mask: boolean }>;
  standIn: boolean;
}

async function registerModel(registry: ModelRegistryClient): Promise<BenchModel> {
  if (fs.existsSync(path.join(MODEL_DIR, 'maas.json'))) {
    const version = await registerPackageDir(registry, MODEL_DIR);
    await setRollout(registry, { model: version.model, stable_version: version.version });
    const inputs = version.manifest!.inputs.map((input) => ({ name: input.name, seq: input.shape[1]!, mask: input.role === 'attention_mask' }));
    return { name: version.model, inputs, standIn: false };
  }
  await registerPackage(registry, classifierManifest({ name: 'tiny-classifier', version: '1', inputShape: [-1, 8], output: { name: 'probability', shape: [-1, 1] } }), {
    'model.onnx': tinyClassifier(),
    'tokenizer.json': TOKENIZER_FILE,
  });
  await setRollout(registry, { model: 'tiny-classifier', stable_version: '1' });
  return { name: 'tiny-classifier', inputs: [{ name: 'input_ids', seq: 8, mask: false }], standIn: true };
}

async function measure(options: { label: string; registryAddress: string; model: BenchModel; env: Record<string, string>; cacheDir: string }) {
  const port = await freePort();
  const inference = startProcess('services/inference/dist/main.js', {
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    METRICS_PORT: '-1',
    REGISTRY_ADDRESS: options.registryAddress,
    MODEL_CACHE_DIR: options.cacheDir,
    ...options.env,
  });
  const client = createClient(contracts().inference.GRPCInferenceService, `127.0.0.1:${port}`) as GRPCInferenceServiceClient;
  try {
    const call = (request: ModelInferRequest) =>
      unaryCall((req: ModelInferRequest, md, opts, cb) => client.ModelInfer(req, md, opts, cb), request, { deadline: 30_000 }) as Promise<ModelInferResponse__Output>;
    await waitFor(
      async () => (await unaryCall((req: object, md, opts, cb) => client.ModelReady({ name: options.model.name, version: '' }, md, opts, cb), {}, { deadline: 2_000 }) as { ready: boolean }).ready,
      'the model to load',
    );
    const request: ModelInferRequest = {
      model_name: options.model.name,
      inputs: options.model.inputs.map((input) => ({ name: input.name, datatype: 'INT64', shape: [1, input.seq] })),
      raw_input_contents: options.model.inputs.map((input) =>
        Buffer.from(BigInt64Array.from({ length: input.seq }, (_, i) => (input.mask ? 1n : BigInt((i % 20) + 1))).buffer),
      ),
    };
    const run = async (seconds: number) => {
      let done = 0;
      const latencies: number[] = [];
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (performance.now() < end) {
            const startedAt = performance.now();
            await call(request);
            latencies.push(performance.now() - startedAt);
            done++;
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
      return { rps: done / seconds, p50: at(0.5), p99: at(0.99) };
    };
    await run(2); // warm-up: connections, JIT, sessions
    const result = await run(SECONDS);
    console.log(`${options.label.padEnd(34)} ${result.rps.toFixed(0).padStart(6)} req/s   p50 ${result.p50} ms   p99 ${result.p99} ms`);
    return result;
  } finally {
    client.close();
    await stopProcess(inference);
  }
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-bench-'));
  const registryPort = await freePort();
  const registryAddress = `127.0.0.1:${registryPort}`;
  const registryProcess = startProcess('services/model-registry/dist/main.js', {
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(registryPort),
    METRICS_PORT: '-1',
    REGISTRY_DATA_DIR: path.join(tmp, 'registry'),
  });
  const registry = createClient(contracts().maas.v1.ModelRegistry, registryAddress);
  try {
    await waitFor(async () => {
      await unaryCall((req: object, md, opts, cb) => registry.ListModels({}, md, opts, cb), {}, { deadline: 1_000 });
      return true;
    }, 'the registry');
    const model = await registerModel(registry);
    console.log(`model ${model.name} (${model.standIn ? 'tiny stand-in: models/dist/sentiment/1 not built' : MODEL_DIR}), 1-row raw requests, ${IN_FLIGHT} in flight, ${SECONDS} s, ${os.cpus().length} CPUs`);
    const cacheDir = path.join(tmp, 'cache');
    await measure({ label: 'batching on (defaults)', registryAddress, model, env: {}, cacheDir });
    await measure({ label: 'batching off (MAX_BATCH_SIZE=1)', registryAddress, model, env: { MAX_BATCH_SIZE: '1' }, cacheDir });
  } finally {
    registry.close();
    await stopProcess(registryProcess);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
