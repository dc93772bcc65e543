import test from 'ava';
import { ConfigError, configReader, describeConfig, serverConfig } from '../src/config.js';

test('serverConfig uses defaults and freezes the result', (t) => {
  const reader = configReader({ TLS_MODE: 'plaintext' });
  const config = reader.done(serverConfig(reader, { grpc: 50051, metrics: 9464 }));
  t.is(config.grpcPort, 50051);
  t.is(config.natsUrl, 'nats://127.0.0.1:4222');
  t.true(Object.isFrozen(config));
});

test('done() lists every bad variable at once', (t) => {
  const reader = configReader({ TLS_MODE: 'plaintext', GRPC_PORT: 'abc', METRICS_PORT: '70000', LOG_LEVEL: 'loud', SHUTDOWN_DEADLINE_MS: '1.5' });
  const config = serverConfig(reader, { grpc: 1, metrics: 2 });
  reader.string('REQUIRED_THING', { doc: 'something required' });
  const error = t.throws(() => reader.done(config), { instanceOf: ConfigError });
  const problems = (error as ConfigError).problems.join('\n');
  for (const name of ['GRPC_PORT', 'METRICS_PORT', 'LOG_LEVEL', 'SHUTDOWN_DEADLINE_MS', 'REQUIRED_THING']) t.regex(problems, new RegExp(name));
  t.is((error as ConfigError).problems.length, 5);
});

test('lists and booleans parse', (t) => {
  const reader = configReader({ EPS: 'cuda, cpu', FLAG: 'yes', BAD: 'maybe' });
  t.deepEqual(reader.list('EPS', { default: ['cpu'], doc: 'providers' }), ['cuda', 'cpu']);
  t.true(reader.bool('FLAG', { default: false, doc: 'flag' }));
  reader.bool('BAD', { default: false, doc: 'flag' });
  t.throws(() => reader.done({}), { message: /BAD="maybe" is not a boolean/ });
});

test('problem() adds a relation the typed reads cannot see to the same error', (t) => {
  const reader = configReader({ LOW: '10', HIGH: '5', PORT: 'x' });
  const low = reader.int('LOW', { default: 0, doc: 'low' });
  const high = reader.int('HIGH', { default: 0, doc: 'high' });
  reader.int('PORT', { default: 1, doc: 'port' });
  if (low > high) reader.problem(`LOW=${low} is above HIGH=${high}`);
  const error = t.throws(() => reader.done({ low, high }), { instanceOf: ConfigError });
  t.deepEqual((error as ConfigError).problems.length, 2);
  t.is((error as ConfigError).problems[1], 'LOW=10 is above HIGH=5');
  t.throws(
    () => {
      const alone = configReader({});
      alone.problem('only this');
      alone.done({});
    },
    { instanceOf: ConfigError, message: /only this/ },
  );
});

test('describeConfig lists every variable a config function reads, with its shown default, range and doc', (t) => {
  const variables = describeConfig(() => {
    const reader = configReader({});
    reader.int('WORKERS', { default: 4, min: 1, max: 64, doc: 'worker threads', defaultDoc: '(from the CPUs available)' });
    reader.string('ADDRESS', { doc: 'where to connect' }); // required: describeConfig ignores the ConfigError
    reader.oneOf('MODE', ['a', 'b'], { default: 'a', doc: 'the mode' });
    return reader.done({});
  });
  t.deepEqual(variables, [
    { name: 'WORKERS', default: '(from the CPUs available)', doc: 'worker threads', constraint: '1–64' },
    { name: 'ADDRESS', default: undefined, doc: 'where to connect' },
    { name: 'MODE', default: 'a', doc: 'the mode', constraint: 'a, b' },
  ]);
  // Outside describeConfig nothing is recorded.
  configReader({}).int('OTHER', { default: 1, doc: 'other' });
  t.deepEqual(
    describeConfig(() => undefined),
    [],
  );
});
