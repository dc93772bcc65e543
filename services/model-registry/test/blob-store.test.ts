import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { BlobStore } from '../src/blob-store.js';
import { makeTempDir, sha256Hex } from '../../../test/support/model-packages.js';

test('a staged file is hashed while written and committed to its content address', async (t) => {
  const blobs = await BlobStore.open({ dataDir: await makeTempDir() });
  const staging = await blobs.createStagingArea();
  const writer = await staging.createWriter();
  const parts = [Buffer.from('hello '), Buffer.from('world')];
  for (const part of parts) await writer.write(part);
  const staged = await writer.finish();
  const expected = sha256Hex(Buffer.concat(parts));
  t.is(staged.sha256, expected);
  t.is(staged.sizeBytes, 11);
  t.false(await blobs.has(expected));
  t.true(await blobs.commit(staged));
  t.is(blobs.blobPath(expected), path.join(blobs.blobRoot, expected.slice(0, 2), expected));
  t.is(await fs.readFile(blobs.blobPath(expected), 'utf8'), 'hello world');
  t.deepEqual(await blobs.list(), [expected]);
  await staging.discard();
  t.deepEqual(await fs.readdir(blobs.tempRoot), []);
});

test('equal content is stored once: the second commit reports the blob existed', async (t) => {
  const blobs = await BlobStore.open({ dataDir: await makeTempDir() });
  const staging = await blobs.createStagingArea();
  const first = await staging.writeBuffer(Buffer.from('same bytes'));
  const second = await staging.writeBuffer(Buffer.from('same bytes'));
  t.true(await blobs.commit(first));
  t.false(await blobs.commit(second));
  t.is((await blobs.list()).length, 1);
  await blobs.remove(first.sha256);
  t.deepEqual(await blobs.list(), []);
});

test('discarding a staging area closes unfinished writers and deletes their temp files', async (t) => {
  const blobs = await BlobStore.open({ dataDir: await makeTempDir() });
  const staging = await blobs.createStagingArea();
  const writer = await staging.createWriter();
  await writer.write(Buffer.alloc(1000, 1));
  t.is((await fs.readdir(blobs.tempRoot)).length, 1);
  await staging.discard();
  t.deepEqual(await fs.readdir(blobs.tempRoot), []);
  await t.throwsAsync(() => writer.write(Buffer.alloc(1)));
});

test('opening removes temp files a crashed process left behind', async (t) => {
  const dataDir = await makeTempDir();
  const blobs = await BlobStore.open({ dataDir });
  const staging = await blobs.createStagingArea();
  await staging.writeBuffer(Buffer.from('half an upload'));
  t.is((await fs.readdir(blobs.tempRoot)).length, 1);
  const reopened = await BlobStore.open({ dataDir });
  t.deepEqual(await fs.readdir(reopened.tempRoot), []);
});

test('a blob reads back in chunks of the requested size', async (t) => {
  const blobs = await BlobStore.open({ dataDir: await makeTempDir() });
  const staging = await blobs.createStagingArea();
  const data = Buffer.alloc(10_000, 7);
  const staged = await staging.writeBuffer(data);
  await blobs.commit(staged);
  const chunks: Buffer[] = [];
  for await (const chunk of blobs.openRead(staged.sha256, 4096)) chunks.push(chunk as Buffer);
  t.deepEqual(
    chunks.map((chunk) => chunk.length),
    [4096, 4096, 1808],
  );
  t.true(Buffer.concat(chunks).equals(data));
  t.throws(() => blobs.blobPath('../../etc/passwd'));
});
