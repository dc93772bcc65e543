// The replica picker over real grpc-js servers on loopback: balancing, skipping a replica that lacks a key,
// retrying on another when one is gone, and the budget that stops retry storms.
import * as grpc from '@grpc/grpc-js';
import { contracts, type EncodeRequest, type EncodeResponse__Output, type TokenizerClient } from '@maas/protos';
import test from 'ava';
import pino from 'pino';
import { failedPrecondition } from '../src/errors.js';
import { createClient, unaryCall } from '../src/grpc-client.js';
import { startGrpcServer } from '../src/grpc-server.js';
import { unary } from '../src/handlers.js';
import { createServiceMetrics } from '../src/metrics.js';
import { createBalancedClient, resolveTarget } from '../src/replica-set.js';

const logger = pino({ level: 'silent' });

/** A tokenizer-shaped server that answers with its own name; `lacks` lists versions it refuses as not loaded. */
async function replica(name: string, lacks: string[] = []) {
  const ctx = { logger, metrics: createServiceMetrics({ service: `replica-${name}` }) };
  let calls = 0;
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    services: [
      {
        name: 'maas.v1.Tokenizer',
        definition: contracts().maas.v1.Tokenizer.service,
        implementation: {
          Encode: unary<EncodeRequest, EncodeResponse__Output>(
            'Encode',
            async (request) => {
              calls += 1;
              if (lacks.includes(request.version ?? '')) throw failedPrecondition(`version ${request.version} is not loaded here`);
              return { model: name, version: request.version ?? '', tensors: [], lengths: [] } as unknown as EncodeResponse__Output;
            },
            ctx,
          ),
        },
      },
    ],
  });
  server.setServing(true);
  return { server, address: `127.0.0.1:${server.port}`, calls: () => calls };
}

function balanced(target: string) {
  const Tokenizer = contracts().maas.v1.Tokenizer;
  return createBalancedClient(Tokenizer, {
    target,
    connect: (address) => createClient(Tokenizer, address),
    idempotent: new Set(['Encode']),
    keyOf: (_method, request) => `m\u0000${(request as EncodeRequest).version}`,
    logger,
  });
}

const encode = (client: TokenizerClient, version: string) =>
  unaryCall<EncodeRequest, EncodeResponse__Output>((r, md, o, cb) => client.Encode(r, md, o, cb), { model: 'm', version, texts: ['x'] }, { deadline: 5_000 });

test('targets: dns:/// names resolve to every address; ipv4: and plain lists are taken as they are', async (t) => {
  t.true((await resolveTarget('dns:///localhost:1234')).includes('127.0.0.1:1234'));
  t.deepEqual(await resolveTarget('ipv4:127.0.0.1:1,127.0.0.1:2'), ['127.0.0.1:1', '127.0.0.1:2']);
  t.deepEqual(await resolveTarget('a:1, b:2'), ['a:1', 'b:2']);
});

test('calls alternate over the replicas; a replica that lacks a version gets none of its calls after the first', async (t) => {
  const [a, b] = [await replica('a'), await replica('b', ['2'])];
  const client = balanced(`ipv4:${a.address},${b.address}`);
  t.teardown(async () => {
    client.close();
    await Promise.all([a.server.stop({ graceMs: 0, deadlineMs: 500 }), b.server.stop({ graceMs: 0, deadlineMs: 500 })]);
  });
  const answeredBy = [];
  for (let i = 0; i < 20; i++) answeredBy.push((await encode(client, '1')).model);
  t.is(answeredBy.filter((name) => name === 'a').length, 10);
  const before = b.calls();
  for (let i = 0; i < 20; i++) t.is((await encode(client, '2')).model, 'a');
  t.true(b.calls() - before <= 1, `b was asked ${b.calls() - before} times for a version it lacks`);
});

test('a replica that is gone costs no failed call: the call is retried on another, and the dead one is ejected', async (t) => {
  const [a, b] = [await replica('a'), await replica('b')];
  const client = balanced(`${a.address},${b.address}`);
  t.teardown(async () => {
    client.close();
    await a.server.stop({ graceMs: 0, deadlineMs: 500 });
  });
  for (let i = 0; i < 4; i++) await encode(client, '1');
  await b.server.stop({ graceMs: 0, deadlineMs: 500 });
  const answers = await Promise.all(Array.from({ length: 40 }, () => encode(client, '1')));
  t.true(answers.every((answer) => answer.model === 'a'));
  t.true(client.replicaSet.retries <= 5, `${client.replicaSet.retries} retries`);
});

test('the retry budget: with every replica refusing, a burst does not multiply into retries', async (t) => {
  const [a, b] = [await replica('a', ['9']), await replica('b', ['9'])];
  const client = balanced(`${a.address},${b.address}`);
  t.teardown(async () => {
    client.close();
    await Promise.all([a.server.stop({ graceMs: 0, deadlineMs: 500 }), b.server.stop({ graceMs: 0, deadlineMs: 500 })]);
  });
  const results = await Promise.allSettled(Array.from({ length: 100 }, () => encode(client, '9')));
  t.true(results.every((result) => result.status === 'rejected' && (result.reason as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION));
  // At most the initial 10 tokens: 100 calls made at most 110 attempts.
  t.true(client.replicaSet.retries <= 10, `${client.replicaSet.retries} retries`);
  t.true(a.calls() + b.calls() <= 110);
});
