import { ConfigError } from '@maas/shared';
import test from 'ava';
import { loadConfig } from '../src/config.js';

/** These tests are about the other variables: TLS's files are checked in the test below. */
const PLAINTEXT = { TLS_MODE: 'plaintext' };

test('TLS is on by default: a missing certificate, key or CA file is a config error naming each', (t) => {
  const error = t.throws(() => loadConfig({ TLS_CERT_FILE: '/nonexistent/tls.crt' }), { instanceOf: ConfigError });
  const problems = (error as ConfigError).problems.join('\n');
  for (const name of ['TLS_CERT_FILE="/nonexistent/tls.crt" does not exist', 'TLS_KEY_FILE', 'TLS_CA_FILE'])
    t.true(problems.includes(name), `${name} missing from:\n${problems}`);
  t.is(loadConfig(PLAINTEXT).tls.mode, 'plaintext');
});

test('defaults: the gateway ports, the other services on localhost, the documented limits', (t) => {
  const config = loadConfig(PLAINTEXT);
  t.like(config, {
    grpcPort: 50051,
    metricsPort: 9464,
    tokenizerAddress: '127.0.0.1:50052',
    inferenceAddress: '127.0.0.1:50053',
    registryAddress: '127.0.0.1:50054',
    maxBatchTexts: 256,
    maxTextBytes: 16_384,
    coalesceMaxDelayMs: 0,
    coalesceMaxTexts: 256,
  });
  t.true(Object.isFrozen(config));
});

test('variables override defaults', (t) => {
  const config = loadConfig({ ...PLAINTEXT, GRPC_PORT: '0', TOKENIZER_ADDRESS: 'tokenizer:50052', COALESCE_MAX_DELAY_MS: '0.5', MAX_BATCH_TEXTS: '32' });
  t.like(config, { grpcPort: 0, tokenizerAddress: 'tokenizer:50052', coalesceMaxDelayMs: 0.5, maxBatchTexts: 32 });
});

test('every bad variable is listed in one error', (t) => {
  const error = t.throws(() => loadConfig({ ...PLAINTEXT, MAX_BATCH_TEXTS: 'many', MAX_TEXT_BYTES: '0', COALESCE_MAX_TEXTS: '1.5', GRPC_PORT: '70000' }), {
    instanceOf: ConfigError,
  });
  const problems = (error as ConfigError).problems.join('\n');
  for (const name of ['MAX_BATCH_TEXTS', 'MAX_TEXT_BYTES', 'COALESCE_MAX_TEXTS', 'GRPC_PORT'])
    t.true(problems.includes(name), `${name} missing from:\n${problems}`);
});

test('a queue smaller than one full call is refused, together with other problems', (t) => {
  const error = t.throws(() => loadConfig({ ...PLAINTEXT, MAX_QUEUE_TEXTS: '10', MAX_BATCH_TEXTS: '20', REQUEST_TIMEOUT_MS: 'soon' }), {
    instanceOf: ConfigError,
  });
  const problems = (error as ConfigError).problems;
  t.is(problems.length, 2);
  t.true(problems.some((problem) => problem.startsWith('MAX_QUEUE_TEXTS=10 is below MAX_BATCH_TEXTS=20')));
  t.true(problems.some((problem) => problem.startsWith('REQUEST_TIMEOUT_MS')));
  t.throws(() => loadConfig({ ...PLAINTEXT, MAX_QUEUE_TEXTS: '10', MAX_BATCH_TEXTS: '20' }), { instanceOf: ConfigError });
});
