import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { ArtifactChunk__Output, ModelRegistryClient } from '@maas/protos';
import { downloadArtifact, type DownloadArtifactOptions } from '../src/artifact-download.js';
import { GrpcError } from '@maas/shared';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const content = Buffer.from('the bytes of a model file, in three chunks');
const digest = { sha256: sha256(content), size_bytes: content.length };
const request = { model: 'm', version: '1', path: 'dir/file.bin' };

/** Chunks as the registry streams them: the first one carries the announced digest. */
function chunksOf(data: Buffer, announced = digest, pieces = 3): ArtifactChunk__Output[] {
  const size = Math.ceil(data.length / pieces) || 1;
  const chunks: ArtifactChunk__Output[] = [];
  for (let offset = 0; offset < Math.max(data.length, 1); offset += size)
    chunks.push({ data: data.subarray(offset, offset + size), sha256: '', size_bytes: 0 } as ArtifactChunk__Output);
  chunks[0] = { ...chunks[0]!, sha256: announced.sha256, size_bytes: announced.size_bytes };
  return chunks;
}

/** A registry client whose DownloadArtifact streams `chunks` (then fails with `error`, when given). */
function fakeRegistry(chunks: ArtifactChunk__Output[], error?: Error) {
  const calls = { cancelled: 0, requests: [] as unknown[] };
  const registry = {
    DownloadArtifact(received: unknown) {
      calls.requests.push(received);
      const stream = Readable.from(
        (async function* () {
          yield* chunks;
          if (error) throw error;
        })(),
        { objectMode: true },
      );
      return Object.assign(stream, { cancel: () => (calls.cancelled += 1) });
    },
  } as unknown as ModelRegistryClient;
  return { registry, calls };
}

const options = (registry: ModelRegistryClient, more: Partial<DownloadArtifactOptions> = {}): DownloadArtifactOptions => ({
  registry,
  request,
  deadline: 5_000,
  maxBytes: 1_000,
  expected: digest,
  sink: 'buffer',
  ...more,
});

const tempDirs: string[] = [];
test.after.always(async () => {
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
});

async function tempFile(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-download-'));
  tempDirs.push(dir);
  return path.join(dir, 'file.part');
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

test('a matching download is returned whole (buffer sink) or written out (file sink)', async (t) => {
  const { registry, calls } = fakeRegistry(chunksOf(content));
  const inMemory = await downloadArtifact({ ...options(registry), sink: 'buffer' });
  t.deepEqual(inMemory, { sha256: digest.sha256, sizeBytes: content.length, data: content });
  t.deepEqual(calls.requests, [request]);

  const file = await tempFile();
  const written = await downloadArtifact({ ...options(fakeRegistry(chunksOf(content)).registry), sink: { file } });
  t.deepEqual(written, { sha256: digest.sha256, sizeBytes: content.length });
  t.deepEqual(await fs.readFile(file), content);
});

test('an empty file arrives as its one chunk carrying the digest', async (t) => {
  const empty = Buffer.alloc(0);
  const emptyDigest = { sha256: sha256(empty), size_bytes: 0 };
  const { registry } = fakeRegistry(chunksOf(empty, emptyDigest));
  const downloaded = await downloadArtifact({ ...options(registry, { expected: emptyDigest }), sink: 'buffer' });
  t.is(downloaded.data.length, 0);
});

const flipped = Buffer.from(content);
flipped[5] = flipped[5]! ^ 0x20;

const mismatches: Array<{ title: string; chunks: ArtifactChunk__Output[]; message: RegExp }> = [
  {
    title: 'the registry announces another digest than the version lists',
    chunks: chunksOf(content, { sha256: 'f'.repeat(64), size_bytes: content.length }),
    message: /rejected: the registry streams sha256 f{64} \(\d+ bytes\), its version lists [0-9a-f]{64}/,
  },
  {
    title: 'more bytes arrive than announced',
    chunks: chunksOf(Buffer.concat([content, Buffer.from('!')])),
    message: /rejected: more than the \d+ bytes announced arrived/,
  },
  {
    title: 'fewer bytes arrive than announced',
    chunks: chunksOf(content.subarray(1)),
    message: new RegExp(`rejected: ${content.length - 1} bytes arrived, ${content.length} were announced`),
  },
  {
    title: 'the bytes differ (same size)',
    chunks: chunksOf(flipped),
    message: new RegExp(`rejected: its sha256 is ${sha256(flipped)}, expected ${digest.sha256}`),
  },
];

for (const { title, chunks, message } of mismatches) {
  test(`DATA_LOSS naming the file when ${title}; a partial file is removed`, async (t) => {
    const { registry } = fakeRegistry(chunks);
    const error = await t.throwsAsync(downloadArtifact({ ...options(registry), what: 'model file' }), { instanceOf: GrpcError });
    t.is(error.code, grpc.status.DATA_LOSS);
    t.regex(error.message, /^model file m version 1 file "dir\/file\.bin" rejected: /);
    t.regex(error.message, message);

    const file = await tempFile();
    const fileError = await t.throwsAsync(downloadArtifact({ ...options(fakeRegistry(chunks).registry), sink: { file } }), { instanceOf: GrpcError });
    t.is(fileError.code, grpc.status.DATA_LOSS);
    t.false(await exists(file));
  });
}

test('a mismatch found while streaming cancels the call', async (t) => {
  const { registry, calls } = fakeRegistry(chunksOf(content, { sha256: 'f'.repeat(64), size_bytes: content.length }));
  await t.throwsAsync(downloadArtifact(options(registry)));
  t.is(calls.cancelled, 1);
});

test('without an expected digest the download is held to the one the registry announces', async (t) => {
  const good = await downloadArtifact({ ...options(fakeRegistry(chunksOf(content)).registry, { expected: undefined }), sink: 'buffer' });
  t.deepEqual(good.data, content);
  const error = await t.throwsAsync(downloadArtifact(options(fakeRegistry(chunksOf(flipped)).registry, { expected: undefined })), { instanceOf: GrpcError });
  t.is(error.code, grpc.status.DATA_LOSS);
  t.regex(error.message, /its sha256 is/);
});

test('more than maxBytes is RESOURCE_EXHAUSTED, whether listed or only announced', async (t) => {
  const listed = await t.throwsAsync(downloadArtifact(options(fakeRegistry(chunksOf(content)).registry, { maxBytes: 10 })), { instanceOf: GrpcError });
  t.is(listed.code, grpc.status.RESOURCE_EXHAUSTED);
  t.regex(listed.message, new RegExp(`it is ${content.length} bytes; the limit is 10 bytes`));
  const { registry, calls } = fakeRegistry(chunksOf(content));
  const announced = await t.throwsAsync(downloadArtifact(options(registry, { maxBytes: 10, expected: undefined })), { instanceOf: GrpcError });
  t.is(announced.code, grpc.status.RESOURCE_EXHAUSTED);
  t.regex(announced.message, /the registry announces \d+ bytes; the limit is 10 bytes/);
  t.is(calls.cancelled, 1);
});

test('a status error of the stream is thrown as it came, for the caller to interpret', async (t) => {
  const failure = Object.assign(new Error('5 NOT_FOUND: no such file'), {
    code: grpc.status.NOT_FOUND,
    details: 'no such file',
    metadata: new grpc.Metadata(),
  });
  const { registry } = fakeRegistry(chunksOf(content).slice(0, 1), failure);
  const file = await tempFile();
  const error = await t.throwsAsync(downloadArtifact(options(registry, { sink: { file } })));
  t.is(error, failure);
  t.false(await exists(file));
});
