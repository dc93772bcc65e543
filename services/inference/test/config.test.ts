import test from 'ava';
import { ConfigError } from '@maas/shared';
import { loadConfig, sessionSizing } from '../src/config.js';

const sizing = (config: { sessionWorkers: number; intraOpThreads: number }) => [config.sessionWorkers, config.intraOpThreads];

test('by default every available CPU gets a single-threaded session, up to 4 sessions, then threads grow', (t) => {
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext' }, 1)), [1, 1]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext' }, 2)), [2, 1]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext' }, 4)), [4, 1]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext' }, 16)), [4, 4]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext' }, 6)), [4, 1]);
});

test('an explicit SESSION_WORKERS or INTRA_OP_THREADS wins and the other is sized around it', (t) => {
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext', SESSION_WORKERS: '1' }, 2)), [1, 2]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext', SESSION_WORKERS: '3' }, 2)), [3, 1]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext', INTRA_OP_THREADS: '2' }, 8)), [4, 2]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext', INTRA_OP_THREADS: '0' }, 8)), [1, 0]);
  t.deepEqual(sizing(loadConfig({ TLS_MODE: 'plaintext', SESSION_WORKERS: '2', INTRA_OP_THREADS: '0' }, 2)), [2, 0]);
  t.deepEqual(sessionSizing(2.5, {}), { sessionWorkers: 2, intraOpThreads: 1 });
});

test('batching defaults: no fixed queue delay, a 16k token budget; bad sizes are listed', (t) => {
  const config = loadConfig({ TLS_MODE: 'plaintext' }, 2);
  t.is(config.maxQueueDelayMs, 0);
  t.is(config.maxBatchTokens, 16_384);
  const error = t.throws(() => loadConfig({ TLS_MODE: 'plaintext', SESSION_WORKERS: '0', INTRA_OP_THREADS: 'many', MAX_BATCH_TOKENS: '-1' }, 2), {
    instanceOf: ConfigError,
  });
  const problems = (error as ConfigError).problems.join('\n');
  for (const name of ['SESSION_WORKERS', 'INTRA_OP_THREADS', 'MAX_BATCH_TOKENS']) t.regex(problems, new RegExp(name));
});
