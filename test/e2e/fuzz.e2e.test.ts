/**
 * Bad input, systematically: 10,000+ generated malformed requests (seeded, reproducible: FUZZ_SEED) against
 * every public method of the gateway (Classify and the OIP service) and the internal services (as the mesh
 * identities that may call them), over the real in-process mesh with TLS. Each must get a clean status — a
 * code that means something, never UNKNOWN or INTERNAL, a message without internal paths or addresses — no
 * service may stop or hang, memory stays bounded, and the mesh still classifies correctly afterwards.
 */
import * as grpc from '@grpc/grpc-js';
import { registerPackage, setRollout } from '@maas/cli';
import { contracts, Status, type ClassifyResponse__Output } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import test from 'ava';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { adminClient } from '../support/test-pki.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const IN_FLIGHT = 32;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed and index. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof prng>;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, max: number) => Math.floor(random() * max);
const bytes = (random: Random, length: number) => Buffer.from(Array.from({ length }, () => int(random, 256)));

const INVALID_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0xc3, 0x28]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80])];
const STRINGS = (random: Random) =>
  pick(random, [
    '',
    'sentiment',
    'no-such-model',
    '../../etc/passwd',
    '/etc/passwd',
    'a'.repeat(5_000),
    '\u0000',
    '💥',
    'sentiment\n',
    String(int(random, 1e9)),
    INVALID_UTF8[int(random, 4)]!.toString('latin1'),
  ]);
const SHAPES = (random: Random) =>
  pick(random, [[], [1], [-1], [0, 0], [1, 1e12], [-5, 3], [2, 3, 4, 5, 6, 7, 8, 9], [Number.MAX_SAFE_INTEGER], [1, int(random, 64)]]);
const DATATYPES = (random: Random) => pick(random, ['INT64', 'INT32', 'FP32', 'BYTES', 'BOOL', 'FP16', 'UINT8', 'bogus', '']);

/** A corrupt BYTES tensor: 4-byte little-endian length prefixes that lie. */
function corruptBytesTensor(random: Random): Buffer {
  const parts: Buffer[] = [];
  for (let index = 0; index < 1 + int(random, 4); index++) {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(pick(random, [0, 3, 1 << 30, 0xffffffff, int(random, 100)]));
    parts.push(prefix, bytes(random, int(random, 16)));
  }
  return Buffer.concat(parts);
}

function inferRequest(random: Random): object {
  const datatype = DATATYPES(random);
  const shape = SHAPES(random);
  const raw = random() < 0.5;
  const input = {
    name: pick(random, ['input_ids', 'x', '', 'attention_mask']),
    datatype,
    shape,
    ...(raw
      ? {}
      : {
          contents: pick(random, [
            { int64_contents: [1, 2, 3] },
            { fp32_contents: [Number.NaN, 1e39] },
            { bytes_contents: [INVALID_UTF8[0]!, bytes(random, 10)] },
            {},
          ]),
        }),
  };
  return {
    model_name: pick(random, ['sentiment', 'encoder-bench', 'no-such-model', '', '../x']),
    model_version: pick(random, ['', '1', '2', '999', '-1', '../../']),
    inputs: random() < 0.1 ? [] : [input, ...(random() < 0.3 ? [input] : [])],
    raw_input_contents: raw ? [datatype === 'BYTES' ? corruptBytesTensor(random) : bytes(random, int(random, 64))] : [],
  };
}

/** One generated call: which client, which method, what to send. */
interface FuzzCase {
  target: 'gateway' | 'tokenizer' | 'inference' | 'registry';
  path: string;
  /** A message for the typed client, or raw bytes for the raw one. */
  request: object | Buffer;
}

const RAW_METHODS = {
  gateway: [
    '/maas.v1.Gateway/Classify',
    '/inference.GRPCInferenceService/ModelInfer',
    '/inference.GRPCInferenceService/ModelMetadata',
    '/inference.GRPCInferenceService/ModelReady',
    '/inference.GRPCInferenceService/ServerMetadata',
  ],
  tokenizer: ['/maas.v1.Tokenizer/Encode'],
  inference: ['/inference.GRPCInferenceService/ModelInfer', '/inference.GRPCInferenceService/ModelMetadata', '/inference.GRPCInferenceService/ModelReady'],
  registry: [
    '/maas.v1.ModelRegistry/GetModel',
    '/maas.v1.ModelRegistry/GetVersion',
    '/maas.v1.ModelRegistry/SetRollout',
    '/maas.v1.ModelRegistry/ListAuditEvents',
  ],
} as const;

function generate(random: Random): FuzzCase {
  const roll = random();
  if (roll < 0.3) {
    // Random bytes as the message: the server's decoder must refuse them cleanly.
    const target = pick(random, ['gateway', 'tokenizer', 'inference', 'registry'] as const);
    return { target, path: pick(random, RAW_METHODS[target]), request: bytes(random, int(random, 512)) };
  }
  if (roll < 0.5) {
    const texts = Array.from({ length: pick(random, [0, 1, 3, 300]) }, () => pick(random, ['ok', STRINGS(random), 'x'.repeat(int(random, 20_000))]));
    return {
      target: 'gateway',
      path: '/maas.v1.Gateway/Classify',
      request: { model: pick(random, ['sentiment', STRINGS(random)]), texts, routing_key: STRINGS(random) },
    };
  }
  if (roll < 0.75)
    return { target: pick(random, ['gateway', 'inference'] as const), path: '/inference.GRPCInferenceService/ModelInfer', request: inferRequest(random) };
  if (roll < 0.85) {
    return {
      target: 'tokenizer',
      path: '/maas.v1.Tokenizer/Encode',
      request: {
        model: pick(random, ['sentiment', STRINGS(random)]),
        version: pick(random, ['1', '', '9', STRINGS(random)]),
        texts: [STRINGS(random)],
        max_length: pick(random, [0, -1, 1e9, 3]),
      },
    };
  }
  if (roll < 0.95) {
    return {
      target: 'registry',
      path: '/maas.v1.ModelRegistry/SetRollout',
      request: {
        model: STRINGS(random),
        stable_version: STRINGS(random),
        canary_version: STRINGS(random),
        canary_weight: pick(random, [0, 101, 50, 4294967295]),
        expected_revision: pick(random, [0, 1, Number.MAX_SAFE_INTEGER]),
      },
    };
  }
  return { target: 'registry', path: '/maas.v1.ModelRegistry/GetVersion', request: { model: STRINGS(random), version: STRINGS(random) } };
}

/**
 * Codes a malformed request may get; UNKNOWN and INTERNAL would mean an unhandled error, UNAVAILABLE a service
 * that went away. DEADLINE_EXCEEDED is a machine too busy for the deadline (npm test runs two heavy files at
 * once on two cores), not a mishandled input.
 */
const CLEAN_CODES = new Set([
  Status.DEADLINE_EXCEEDED,
  Status.INVALID_ARGUMENT,
  Status.NOT_FOUND,
  Status.FAILED_PRECONDITION,
  Status.RESOURCE_EXHAUSTED,
  Status.PERMISSION_DENIED,
  Status.UNAUTHENTICATED,
  Status.OUT_OF_RANGE,
  Status.UNIMPLEMENTED,
  Status.ABORTED,
  Status.ALREADY_EXISTS,
  Status.OK,
]);
/** What an error message must never carry: file paths, internal addresses, ONNX Runtime internals, stacks. */
const LEAKS = [/\/(tmp|work|home|var|etc\/maas|app)\//, /127\.0\.0\.1:\d+/, /remote_addr/, /onnxruntime|OrtRun|node_modules/i, /\n\s+at /];

test('fuzz: 10,000 malformed requests get clean codes; no service dies, hangs or grows; the mesh still classifies', async (t) => {
  const mesh = await startInProcessMesh({
    env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '200' },
    // The fuzzer is one caller: its rate is not what is tested here.
    serviceEnv: { gateway: { RATE_LIMIT_RPS: '0', MAX_CONCURRENT_PER_CALLER: '0' } },
    beforeConsumers: async (registryAddress) => {
      await registerPackage({ client: adminClient(), registryAddress, packageDir: examplePackage('sentiment', '1') });
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1' });
    },
  });
  t.teardown(() => mesh.stop());
  const identity: Record<FuzzCase['target'], ClientOptions> = {
    gateway: mesh.clientOptions('admin'),
    tokenizer: mesh.clientOptions('gateway'),
    inference: mesh.clientOptions('gateway'),
    registry: mesh.clientOptions('admin'),
  };
  const address = {
    gateway: mesh.addresses.gateway,
    tokenizer: mesh.addresses.tokenizer,
    inference: mesh.addresses.inference,
    registry: mesh.addresses.registry,
  };
  const raw = Object.fromEntries(
    Object.entries(address).map(([target, at]) => [
      target,
      new grpc.Client(at, identity[target as FuzzCase['target']].credentials!, identity[target as FuzzCase['target']].channelOptions),
    ]),
  ) as Record<FuzzCase['target'], grpc.Client>;
  t.teardown(() => Object.values(raw).forEach((client) => client.close()));
  // Measured after a warm-up share of the requests: caches, pools and arenas fill first; growth after that is a leak.
  let rssBefore = process.memoryUsage().rss;
  const warmUp = Math.floor(TOTAL / 5);

  const random = prng(SEED);
  const counts = new Map<string, number>();
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) {
      const index = next++;
      if (index === warmUp) rssBefore = process.memoryUsage().rss;
      const fuzz = generate(random);
      const isRaw = Buffer.isBuffer(fuzz.request);
      // Typed requests go through protobuf encoding on the client (a wrong type fails there, locally: skip it).
      const serialize = isRaw
        ? (value: Buffer) => value
        : (value: object) => {
            const service = fuzz.path.split('/')[1]!;
            const method = fuzz.path.split('/')[2]!;
            const definition = (
              service === 'maas.v1.Gateway'
                ? contracts().maas.v1.Gateway
                : service === 'maas.v1.Tokenizer'
                  ? contracts().maas.v1.Tokenizer
                  : service === 'maas.v1.ModelRegistry'
                    ? contracts().maas.v1.ModelRegistry
                    : contracts().inference.GRPCInferenceService
            ).service[method]!;
            return definition.requestSerialize(value);
          };
      let payload: Buffer;
      try {
        payload = (serialize as (value: unknown) => Buffer)(fuzz.request);
      } catch {
        counts.set('client-side encode refused', (counts.get('client-side encode refused') ?? 0) + 1);
        continue;
      }
      const status = await new Promise<{ code: number; details: string }>((resolve) => {
        raw[fuzz.target].makeUnaryRequest(
          fuzz.path,
          (value: Buffer) => value,
          (value: Buffer) => value,
          payload,
          new grpc.Metadata(),
          { deadline: Date.now() + 15_000 },
          (error) => resolve(error ? { code: error.code, details: error.details } : { code: Status.OK, details: '' }),
        );
      });
      const key = `${fuzz.target} ${fuzz.path.split('/')[2]} ${Status[status.code]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!CLEAN_CODES.has(status.code)) problems.push(`#${index} ${key}: ${status.details}`);
      const leak = LEAKS.find((pattern) => pattern.test(status.details));
      if (leak) problems.push(`#${index} ${key} leaks ${leak}: ${status.details.slice(0, 200)}`);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (Date.now() - started) / 1000;
  const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  t.log(`fuzz seed ${SEED}: ${TOTAL} requests in ${seconds.toFixed(1)} s, RSS +${rssGrowthMiB.toFixed(0)} MiB after the first ${warmUp}`);
  for (const [key, count] of [...counts].sort()) t.log(`  ${count}\t${key}`);

  const unclean = new Map<string, number>();
  for (const problem of problems)
    unclean.set(problem.split(':')[0]!.replace(/^#\d+ /, ''), (unclean.get(problem.split(':')[0]!.replace(/^#\d+ /, '')) ?? 0) + 1);
  t.deepEqual(problems.slice(0, 20), [], `${problems.length} unclean answers: ${JSON.stringify([...unclean])}`);
  t.true(rssGrowthMiB < 200, `memory grew by ${rssGrowthMiB.toFixed(0)} MiB after the warm-up`);
  // Still alive and still right: a real classification through all four services.
  const gateway = createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, identity.gateway);
  t.teardown(() => gateway.close());
  const response = await unaryCall<object, ClassifyResponse__Output>(
    (r, md, o, cb) => gateway.Classify(r, md, o, cb),
    { model: 'sentiment', texts: ['What a wonderful film, I loved it', 'Never again. Cold food and rude staff.'] },
    { deadline: 10_000 },
  );
  t.deepEqual(
    response.predictions.map((prediction) => prediction.label),
    ['positive', 'negative'],
  );
});
