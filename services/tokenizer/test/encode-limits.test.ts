import test from 'ava';
import { Status } from '@maas/protos';
import { GrpcError } from '@maas/shared';
import { loadConfig } from '../src/config.js';
import { validateEncodeRequest } from '../src/tokenizer-handlers.js';

const limits = { maxBatchTexts: 4, maxTextBytes: 10 };
const request = (overrides: { model?: string; version?: string; texts?: string[] }) => ({
  model: 'm',
  version: '1',
  texts: ['a'],
  narrow_integers: false,
  ...overrides,
});

function rejects(t: import('ava').ExecutionContext, overrides: Parameters<typeof request>[0], message: string) {
  const error = t.throws(() => validateEncodeRequest(request(overrides), limits), { instanceOf: GrpcError });
  t.is(error!.code, Status.INVALID_ARGUMENT);
  t.is(error!.message, message);
}

test('model and version are required', (t) => {
  rejects(t, { model: '' }, 'model is required');
  rejects(t, { version: '' }, 'version is required (the caller picks the version before encoding)');
});

test('texts must be 1..MAX_BATCH_TEXTS', (t) => {
  rejects(t, { texts: [] }, 'texts is empty; send at least one text');
  rejects(t, { texts: ['a', 'b', 'c', 'd', 'e'] }, 'texts has 5 entries; the limit is 4');
  t.notThrows(() => validateEncodeRequest(request({ texts: ['a', 'b', 'c', 'd'] }), limits));
});

test('a text over MAX_TEXT_BYTES is named with its UTF-8 size', (t) => {
  // 'é' is 2 UTF-8 bytes: 6 characters, 12 bytes.
  rejects(t, { texts: ['ok', 'éééééé'] }, 'texts[1] is 12 bytes; the limit is 10');
  t.notThrows(() => validateEncodeRequest(request({ texts: ['ééééé', '0123456789'] }), limits), 'exactly at the limit');
});

test('loadConfig: defaults, and every bad variable reported at once', (t) => {
  const config = loadConfig({ TLS_MODE: 'plaintext' });
  t.like(config, { grpcPort: 50052, metricsPort: 9465, maxBatchTexts: 256, maxTextBytes: 16_384, maxLoadedTokenizers: 32 });
  t.true(Object.isFrozen(config));
  const error = t.throws(() => loadConfig({ TLS_MODE: 'plaintext', MAX_BATCH_TEXTS: '0', MAX_TEXT_BYTES: 'big', MAX_LOADED_TOKENIZERS: '-1' }));
  t.regex(error!.message, /MAX_BATCH_TEXTS/);
  t.regex(error!.message, /MAX_TEXT_BYTES/);
  t.regex(error!.message, /MAX_LOADED_TOKENIZERS/);
});

test('loadConfig: the encode pool has a worker per available CPU for Hugging Face tokenizers; settings override', (t) => {
  t.like(loadConfig({ TLS_MODE: 'plaintext' }, 2), { encodeWorkers: 2, encodeWorkerKinds: ['huggingface'] });
  t.like(loadConfig({ TLS_MODE: 'plaintext' }, 12), { encodeWorkers: 12 });
  t.like(loadConfig({ TLS_MODE: 'plaintext', ENCODE_WORKERS: '0', ENCODE_WORKER_KINDS: 'huggingface,keras' }, 2), {
    encodeWorkers: 0,
    encodeWorkerKinds: ['huggingface', 'keras'],
  });
  const error = t.throws(() => loadConfig({ TLS_MODE: 'plaintext', ENCODE_WORKERS: '-1', ENCODE_WORKER_KINDS: 'sentencepiece' }, 2));
  t.regex(error!.message, /ENCODE_WORKERS=-1/);
  t.regex(error!.message, /ENCODE_WORKER_KINDS names "sentencepiece", which is not a tokenizer kind/);
});
