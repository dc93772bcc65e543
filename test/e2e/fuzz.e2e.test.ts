/**
 * Bad input, systematically: 10,000+ generated malformed requests (seeded, reproducible: FUZZ_SEED) against
 * every public method of the gateway (Classify and the OIP service) and the internal services (as the mesh
 * identities that may call them), over the real in-process mesh with TLS. Each must get a clean status — a
 * code that means something, never UNKNOWN or INTERNAL, a message without internal paths or addresses — no
 * service may stop or hang, memory stays bounded, and the mesh still classifies correctly afterwards.
 *
 * Then 1,000 RegisterVersion streams as the admin (FUZZ_REGISTER_REQUESTS), each a valid package with one or two
 * defects: hostile paths (traversal plain, Windows-style and encoded, absolute, NUL bytes) in the manifest, in
 * chunks or in file references; duplicate files; lying sizes and digests; oversize, negative and huge numbers;
 * broken stream shapes. Each must be refused cleanly (INVALID_ARGUMENT; RESOURCE_EXHAUSTED for a message over
 * the limit), with nothing written outside the registry's data folder, no version, blob, staging file or audit
 * row left behind, and the registry answering throughout. The undamaged package registers (a control).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { registerPackage, setRollout } from '@maas/cli';
import { contracts, Status, type ClassifyResponse__Output } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import test from 'ava';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { KERAS_TOKENIZER_JSON, testManifest } from '../support/model-packages.js';
import { adminClient } from '../support/test-pki.js';
import { registryCalls } from '../support/test-registry.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const IN_FLIGHT = 32;
const REGISTER_TOTAL = Number(process.env.FUZZ_REGISTER_REQUESTS ?? 1_000);
const REGISTER_IN_FLIGHT = 8;

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

/** Where a traversal that escaped would land: a name nothing else uses, looked for after the run. */
const ESCAPE_MARKER = `fuzz-escape-${SEED}`;
/** Paths that must never name a package file: traversal (plain, Windows, encoded), absolute, NUL, and the like. */
const HOSTILE_PATHS: ReadonlyArray<readonly [kind: string, path: string]> = [
  ['traversal', `../${ESCAPE_MARKER}`],
  ['traversal', `../../../../../../${ESCAPE_MARKER}`],
  ['traversal', `extra/../../${ESCAPE_MARKER}`],
  ['traversal', `extra/..`],
  ['traversal', `./${ESCAPE_MARKER}`],
  ['traversal', `..\\..\\${ESCAPE_MARKER}`],
  ['traversal', `extra\\..\\..\\${ESCAPE_MARKER}`],
  ['encoded traversal', `%2e%2e%2f${ESCAPE_MARKER}`],
  ['encoded traversal', `..%2f${ESCAPE_MARKER}`],
  ['encoded traversal', `%2e%2e/${ESCAPE_MARKER}`],
  ['encoded traversal', `..%5c${ESCAPE_MARKER}`],
  ['encoded traversal', `%252e%252e%252f${ESCAPE_MARKER}`],
  ['encoded traversal', `\uff0e\uff0e/${ESCAPE_MARKER}`],
  ['encoded traversal', `\u2025/${ESCAPE_MARKER}`],
  ['encoded traversal', `..\u2215${ESCAPE_MARKER}`],
  ['encoded traversal', `....//${ESCAPE_MARKER}`],
  ['absolute', `/tmp/${ESCAPE_MARKER}`],
  ['absolute', `/${ESCAPE_MARKER}`],
  ['absolute', `C:\\${ESCAPE_MARKER}`],
  ['absolute', `c:${ESCAPE_MARKER}`],
  ['absolute', `\\\\host\\share\\${ESCAPE_MARKER}`],
  ['absolute', `file:///tmp/${ESCAPE_MARKER}`],
  ['absolute', `~/${ESCAPE_MARKER}`],
  ['NUL byte', `extra/notes\u0000.txt`],
  ['NUL byte', `model.onnx\u0000/../../${ESCAPE_MARKER}`],
  ['NUL byte', `\u0000`],
  ['odd path', ''],
  ['odd path', 'extra//notes.txt'],
  ['odd path', 'extra/notes.txt/'],
  ['odd path', 'x'.repeat(300)],
  ['odd path', 'extra/\nnotes.txt'],
  ['odd path', 'maas.json'],
];

/** A package being corrupted: its manifest and the files (chunks) sent after it. */
interface RegisterDraft {
  manifest: Record<string, any>;
  files: Array<{ path: string; data: Buffer }>;
  /** Messages instead of manifest + files (stream-shape defects). */
  messages?: object[];
  /** Chunk size the files are sent in. */
  chunkBytes: number;
}

const SHA256_OF = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A valid sentiment-shaped package (random model bytes: the registry does not load models) with a nested extra file. */
function basePackage(random: Random, name: string, version: string): RegisterDraft {
  const files = [
    { path: 'model.onnx', data: bytes(random, 64 + int(random, 2_048)) },
    { path: 'tokenizer.json', data: KERAS_TOKENIZER_JSON },
    { path: 'extra/notes.txt', data: Buffer.from(`fuzz ${version}\n`) },
  ];
  const manifest = testManifest({
    name,
    version,
    files: files.map((file) => ({ path: file.path, sha256: SHA256_OF(file.data), size_bytes: file.data.length })),
  });
  return { manifest, files, chunkBytes: pick(random, [16, 100, 4_096, 64 * 1024]) };
}

/** The defects a registration can carry; each leaves a package that must be refused. */
const REGISTER_DEFECTS: ReadonlyArray<readonly [string, (draft: RegisterDraft, random: Random) => string | void]> = [
  [
    'hostile path (manifest and chunks)',
    (draft, random) => {
      const [kind, path] = pick(random, HOSTILE_PATHS);
      draft.manifest.files[2].path = path;
      draft.files[2]!.path = path;
      return kind;
    },
  ],
  [
    'hostile path (chunk only)',
    (draft, random) => {
      const [kind, path] = pick(random, HOSTILE_PATHS);
      draft.files.push({ path, data: Buffer.from('escape') });
      return kind;
    },
  ],
  [
    'hostile file reference',
    (draft, random) => {
      const [kind, path] = pick(random, HOSTILE_PATHS);
      const field = pick(random, ['model_file', 'tokenizer', 'evaluation_file'] as const);
      // An empty evaluation_file is a valid "none": name a hostile one instead.
      if (field === 'evaluation_file' && path === '') draft.manifest.evaluation_file = `../${ESCAPE_MARKER}`;
      else if (field === 'tokenizer') draft.manifest.tokenizer.file = path;
      else draft.manifest[field] = path;
      return `${kind} in ${field}`;
    },
  ],
  [
    'duplicate file name',
    (draft, random) => {
      const twice = pick(random, [0, 1, 2]);
      draft.manifest.files.push({ ...draft.manifest.files[twice] });
      if (random() < 0.5) draft.files.push({ ...draft.files[twice]! });
    },
  ],
  [
    'chunks of a file not consecutive',
    (draft) => {
      const [first] = draft.files;
      const half = Math.max(1, Math.floor(first!.data.length / 2));
      draft.files.splice(0, 1, { path: first!.path, data: first!.data.subarray(0, half) });
      draft.files.push({ path: first!.path, data: first!.data.subarray(half) });
    },
  ],
  [
    'lying size (declared smaller)',
    (draft, random) => {
      const file = draft.manifest.files[int(random, 3)];
      file.size_bytes = Math.max(0, file.size_bytes - 1 - int(random, file.size_bytes));
    },
  ],
  [
    'lying size (declared larger)',
    (draft, random) => {
      draft.manifest.files[int(random, 3)].size_bytes += 1 + int(random, 10_000);
    },
  ],
  [
    'lying digest',
    (draft, random) => {
      const index = int(random, 3);
      if (random() < 0.5) draft.manifest.files[index].sha256 = SHA256_OF(bytes(random, 32));
      else {
        // The bytes change after the digest was taken: same size, different content.
        const data = Buffer.from(draft.files[index]!.data);
        const at = int(random, data.length);
        data[at] = data[at]! ^ 0xff;
        draft.files[index] = { path: draft.files[index]!.path, data };
      }
    },
  ],
  [
    'malformed digest',
    (draft, random) => {
      const file = draft.manifest.files[int(random, 3)];
      file.sha256 = pick(random, [
        '',
        file.sha256.toUpperCase(),
        file.sha256.slice(1),
        `${file.sha256}00`,
        'z'.repeat(64),
        `sha256:${file.sha256}`,
        '../'.repeat(21) + 'a',
      ]);
    },
  ],
  [
    'oversize declared size',
    (draft, random) => {
      draft.manifest.files[int(random, 3)].size_bytes = pick(random, [513 * 1024 * 1024, 2 ** 40, 2 ** 53 - 1, 2 ** 53 + 2, 1e300]);
    },
  ],
  [
    'negative or huge number',
    (draft, random) => {
      const file = draft.manifest.files[int(random, 3)];
      const [what, change] = pick(random, [
        // A negative number cannot travel as a uint64: protobufjs sends 0 (then the bytes are "larger than declared").
        ['size_bytes negative', () => (file.size_bytes = pick(random, [-1, -(2 ** 53), Number.MIN_SAFE_INTEGER]))],
        // As decimal strings, the largest uint64 values do reach the wire.
        ['size_bytes 2^64-1', () => (file.size_bytes = pick(random, ['18446744073709551615', '9223372036854775808', '-1']))],
        ['format_version', () => (draft.manifest.format_version = pick(random, [0, 2, 4294967295, -1]))],
        ['tokenizer.max_length', () => (draft.manifest.tokenizer.max_length = pick(random, [0, 4294967295, 65_537]))],
        [
          // An INT32 input_ids cannot hold it (-1 arrives as 4294967295: pad_id is a uint32).
          'tokenizer.pad_id past INT32',
          () => {
            draft.manifest.tokenizer.pad_id = pick(random, [-1, 4294967295, 2 ** 31]);
            draft.manifest.inputs[0].datatype = 'INT32';
          },
        ],
        [
          'inputs[0].shape',
          () =>
            (draft.manifest.inputs[0].shape = pick(random, [
              [-1, -100],
              [-1, 0],
              [-1, 2 ** 53],
              [1e12, 100],
              ['-9223372036854775808', 100],
            ])),
        ],
        ['metrics', () => (draft.manifest.metrics = { accuracy: pick(random, [Number.NaN, Infinity, -Infinity]) })],
      ] as const);
      change();
      return what;
    },
  ],
  [
    'stream shape',
    (draft, random) => {
      const chunk = { chunk: { path: 'model.onnx', data: draft.files[0]!.data } };
      const manifest = { manifest: draft.manifest };
      const [kind, messages] = pick(random, [
        ['empty stream', []],
        ['chunk before the manifest', [chunk, manifest]],
        ['two manifests', [manifest, manifest, chunk]],
        ['manifest only', [manifest]],
        ['neither part', [manifest, {}]],
        ['maas.json as a file', [manifest, { chunk: { path: 'maas.json', data: Buffer.from('{}') } }]],
      ] as const);
      draft.messages = [...messages];
      return kind;
    },
  ],
  [
    'oversize message',
    (draft) => {
      // One chunk above the registry's per-message receive limit (4 MiB + 256 KiB): refused before it is decoded.
      const data = Buffer.alloc(5 * 1024 * 1024, 1);
      draft.files[0] = { path: 'model.onnx', data };
      draft.chunkBytes = data.length;
      draft.manifest.files[0] = { path: 'model.onnx', sha256: SHA256_OF(data), size_bytes: data.length };
    },
  ],
];

/** One generated RegisterVersion: a defect (two, sometimes) on a valid package; the serialized stream. */
function registerCase(random: Random, index: number): { defect: string; messages: object[] } {
  const draft = basePackage(random, 'sentiment', `fuzz-${index}`);
  const defects: string[] = [];
  // The oversize message is 5 MiB: one case in a hundred, so the suite stays quick.
  const oversize = REGISTER_DEFECTS[REGISTER_DEFECTS.length - 1]!;
  for (let count = random() < 0.2 ? 2 : 1; count > 0; count--) {
    const [name, apply] = index % 100 === 50 && count === 1 ? oversize : pick(random, REGISTER_DEFECTS.slice(0, -1));
    const detail = apply(draft, random);
    defects.push(detail ? `${name}: ${detail}` : name);
  }
  return { defect: defects.join(' + '), messages: draftMessages(draft) };
}

/** The stream of a draft: its manifest, then each file in chunks (or the messages it was given). */
function draftMessages(draft: RegisterDraft): object[] {
  return (
    draft.messages ?? [
      { manifest: draft.manifest },
      ...draft.files.flatMap((file) => {
        const chunks: object[] = [];
        for (let offset = 0; offset < file.data.length || offset === 0; offset += draft.chunkBytes) {
          chunks.push({ chunk: { path: file.path, data: file.data.subarray(offset, offset + draft.chunkBytes) } });
          if (file.data.length === 0) break;
        }
        return chunks;
      }),
    ]
  );
}

/** Every file below `dir` (relative paths); nothing when it does not exist. */
function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
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

test('fuzz: 10,000 malformed requests and 1,000 damaged registrations get clean codes; nothing escapes or stays; no service dies, hangs or grows; the mesh still classifies', async (t) => {
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

  const unclean = new Map<string, number>();
  for (const problem of problems)
    unclean.set(problem.split(':')[0]!.replace(/^#\d+ /, ''), (unclean.get(problem.split(':')[0]!.replace(/^#\d+ /, '')) ?? 0) + 1);
  t.deepEqual(problems.slice(0, 20), [], `${problems.length} unclean answers: ${JSON.stringify([...unclean])}`);
  t.true(rssGrowthMiB < 200, `memory grew by ${rssGrowthMiB.toFixed(0)} MiB after the warm-up`);

  // RegisterVersion, fuzzed (a client stream: the manifest, then chunks), as the admin, whose writes are allowed.
  const registryClient = createClient(contracts().maas.v1.ModelRegistry, mesh.addresses.registry, identity.registry);
  t.teardown(() => registryClient.close());
  const registry = registryCalls(registryClient);
  const registerDefinition = contracts().maas.v1.ModelRegistry.service.RegisterVersion!;
  const register = (messages: readonly object[]) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      const call = raw.registry.makeClientStreamRequest(
        '/maas.v1.ModelRegistry/RegisterVersion',
        (value: Buffer) => value,
        (value: Buffer) => value,
        new grpc.Metadata(),
        { deadline: Date.now() + 15_000 },
        (error) => resolve(error ? { code: error.code, details: error.details } : { code: Status.OK, details: '' }),
      );
      // A refusal can end the call while chunks are still being written: those writes go nowhere, as they should.
      call.on('error', () => undefined);
      for (const message of messages) call.write(registerDefinition.requestSerialize(message));
      call.end();
    });
  const registryDir = path.join(mesh.dataDir, 'registry');
  // The control: the package every case starts from registers when undamaged, so each refusal is its defect's doing.
  const control = await register(draftMessages(basePackage(prng(SEED), 'fuzz-control', '1')));
  t.is(control.code, Status.OK, `the undamaged package registers: ${control.details}`);
  const listAudit = () =>
    new Promise<number>((resolve, reject) =>
      registryClient.ListAuditEvents({ limit: 1_000 }, { deadline: Date.now() + 10_000 }, (error, response) =>
        error ? reject(error) : resolve(response!.events.length),
      ),
    );
  const before = {
    models: await registry.listModels(),
    sentiment: await registry.getModel('sentiment'),
    audit: await listAudit(),
    blobs: filesBelow(path.join(registryDir, 'blobs')).sort(),
    staging: filesBelow(path.join(registryDir, 'tmp')).sort(),
  };
  const registerRandom = prng(SEED + 1);
  const registerProblems: string[] = [];
  let nextRegister = 0;
  const registerWorker = async () => {
    while (nextRegister < REGISTER_TOTAL) {
      const index = nextRegister++;
      const fuzz = registerCase(registerRandom, index + 1);
      // Counted under its first defect (the second, when there is one, is counted apart).
      const [first, second] = fuzz.defect.split(' + ').map((defect) => defect.replace(/: .*/, ''));
      if (second) counts.set('registry RegisterVersion with a second defect', (counts.get('registry RegisterVersion with a second defect') ?? 0) + 1);
      let status: { code: number; details: string };
      try {
        status = await register(fuzz.messages);
      } catch {
        counts.set('client-side encode refused', (counts.get('client-side encode refused') ?? 0) + 1);
        continue;
      }
      const key = `registry RegisterVersion ${first} ${Status[status.code]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (![Status.INVALID_ARGUMENT, Status.RESOURCE_EXHAUSTED, Status.DEADLINE_EXCEEDED].includes(status.code)) {
        registerProblems.push(`register #${index} (${fuzz.defect}) got ${Status[status.code]}: ${status.details.slice(0, 300)}`);
      }
      // The input's own hostile paths may be quoted back; anything else path- or address-like is a leak.
      const echoedInputRemoved = status.details.replace(/\S*fuzz-escape-\d+\S*/g, '<input>');
      const leak = LEAKS.find((pattern) => pattern.test(echoedInputRemoved));
      if (leak) registerProblems.push(`register #${index} (${fuzz.defect}) leaks ${leak}: ${status.details.slice(0, 300)}`);
    }
  };
  const registerStarted = Date.now();
  await Promise.all(Array.from({ length: REGISTER_IN_FLIGHT }, registerWorker));
  t.log(`RegisterVersion fuzz (seed ${SEED + 1}): ${REGISTER_TOTAL} damaged packages in ${((Date.now() - registerStarted) / 1000).toFixed(1)} s`);
  t.log(`counts (${TOTAL + REGISTER_TOTAL} in all):`);
  for (const [key, count] of [...counts].sort()) t.log(`  ${count}\t${key}`);
  t.deepEqual(registerProblems.slice(0, 20), [], `${registerProblems.length} registrations not refused cleanly`);

  // Nothing became visible or stayed behind: the registry's state, audit log, blobs and staging as they were.
  t.deepEqual(await registry.listModels(), before.models, 'ListModels (and the revision) unchanged');
  t.deepEqual(await registry.getModel('sentiment'), before.sentiment, 'GetModel unchanged');
  t.is(await listAudit(), before.audit, 'no audit row for a refused registration');
  t.deepEqual(filesBelow(path.join(registryDir, 'blobs')).sort(), before.blobs, 'no blob left by a refused registration');
  t.deepEqual(filesBelow(path.join(registryDir, 'tmp')).sort(), before.staging, 'no staging file left behind');
  // Nothing written outside the data folder: no file named after the marker in any folder a traversal could reach.
  const escaped: string[] = [];
  for (let dir = path.join(registryDir, 'tmp'); ; dir = path.dirname(dir)) {
    if (fs.readdirSync(dir).some((entry) => entry.includes(ESCAPE_MARKER))) escaped.push(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of [process.cwd(), os.tmpdir(), os.homedir()]) {
    if (fs.existsSync(dir) && fs.readdirSync(dir).some((entry) => entry.includes(ESCAPE_MARKER))) escaped.push(dir);
  }
  if (filesBelow(mesh.dataDir).some((file) => file.includes(ESCAPE_MARKER))) escaped.push(mesh.dataDir);
  t.deepEqual(escaped, [], 'no file written outside the registry data folder');
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
