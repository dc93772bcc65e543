import * as grpc from '@grpc/grpc-js';
import { contracts, type ClassifyRequest, type ClassifyResponse__Output } from '@maas/protos';
import test from 'ava';
import pino from 'pino';
import { GrpcError, internal, notFound, relayError, toStatusObject } from '../src/errors.js';
import { freePort } from '../src/free-port.js';
import { createClient, unaryCall } from '../src/grpc-client.js';
import { startGrpcServer } from '../src/grpc-server.js';
import { unary } from '../src/handlers.js';
import { createLogger } from '../src/logger.js';
import { createServiceMetrics } from '../src/metrics.js';

/** A status error as grpc-js hands it to a client. */
function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata() });
}

test('toStatusObject: a downstream caller-facing status passes through as it came', (t) => {
  for (const code of [
    grpc.status.INVALID_ARGUMENT,
    grpc.status.NOT_FOUND,
    grpc.status.ALREADY_EXISTS,
    grpc.status.FAILED_PRECONDITION,
    grpc.status.RESOURCE_EXHAUSTED,
    grpc.status.DEADLINE_EXCEEDED,
    grpc.status.ABORTED,
    grpc.status.OUT_OF_RANGE,
    grpc.status.PERMISSION_DENIED,
    grpc.status.UNAUTHENTICATED,
    grpc.status.CANCELLED,
    grpc.status.DATA_LOSS,
  ]) {
    t.deepEqual(toStatusObject(serviceError(code, 'texts[2] is too long')), { code, details: 'texts[2] is too long', unexpected: false }, grpc.status[code]);
  }
});

test('toStatusObject: a downstream internal error or outage keeps its code, not its text', (t) => {
  for (const code of [grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.UNIMPLEMENTED]) {
    t.deepEqual(toStatusObject(serviceError(code, 'at /srv/app/x.js:12 secret')), { code, details: 'internal error', unexpected: true }, grpc.status[code]);
  }
  t.deepEqual(toStatusObject(serviceError(grpc.status.UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1:50052')), {
    code: grpc.status.UNAVAILABLE,
    details: 'a dependency is unavailable',
    unexpected: false,
  });
});

test('toStatusObject: our own GrpcErrors are deliberate text; other errors are generic INTERNAL', (t) => {
  t.deepEqual(toStatusObject(internal('batch answered 1 results for 2 texts')), {
    code: grpc.status.INTERNAL,
    details: 'batch answered 1 results for 2 texts',
    unexpected: false,
  });
  t.deepEqual(toStatusObject(new GrpcError(grpc.status.UNAVAILABLE, 'the tokenizer is stopping')), {
    code: grpc.status.UNAVAILABLE,
    details: 'the tokenizer is stopping',
    unexpected: false,
  });
  t.deepEqual(toStatusObject(new GrpcError(grpc.status.INTERNAL, 'x failed: y', { exposed: false })), {
    code: grpc.status.INTERNAL,
    details: 'internal error',
    unexpected: true,
  });
  t.deepEqual(toStatusObject(new TypeError('cannot read properties of undefined')), {
    code: grpc.status.INTERNAL,
    details: 'internal error',
    unexpected: true,
  });
});

test('relayError names the hop: its words for caller-facing codes, a plain outage, internal text kept for the log', (t) => {
  const refused = serviceError(grpc.status.INVALID_ARGUMENT, 'texts[0] is empty');
  const relayed = relayError(refused, 'tokenizer');
  t.like(relayed, { code: grpc.status.INVALID_ARGUMENT, message: 'tokenizer: texts[0] is empty', exposed: true });
  t.is(relayed.cause, refused);
  t.like(
    toStatusObject(
      relayError(serviceError(grpc.status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50052'), 'tokenizer'),
    ),
    {
      code: grpc.status.UNAVAILABLE,
      details: 'tokenizer is unavailable',
      unexpected: false,
    },
  );
  const crashed = relayError(serviceError(grpc.status.INTERNAL, 'inference failed: onnxruntime error at /models/x'), 'inference');
  t.like(crashed, { code: grpc.status.INTERNAL, message: 'inference failed: INTERNAL inference failed: onnxruntime error at /models/x', exposed: false });
  t.deepEqual(toStatusObject(crashed), { code: grpc.status.INTERNAL, details: 'internal error', unexpected: true });
  t.is(toStatusObject(relayError(serviceError(grpc.status.UNIMPLEMENTED, 'unknown method'), 'inference')).code, grpc.status.UNIMPLEMENTED);
});

test('over the wire: a caller never sees a dependency address or an internal message, and the original is logged', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const ctx = { logger, metrics: createServiceMetrics({ service: 'test' }) };
  const quiet = { logger: createLogger({ service: 'downstream', level: 'silent' }), metrics: createServiceMetrics({ service: 'downstream' }) };
  const classifyDefinition = contracts().maas.v1.Gateway.service;

  // A downstream service answering with its own (deliberate, for its direct caller) errors.
  const downstream = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: quiet.logger,
    services: [
      {
        name: 'maas.v1.Gateway',
        definition: classifyDefinition,
        implementation: {
          Classify: unary<ClassifyRequest, object>(
            'Classify',
            async (request) => {
              if (request.model === 'crash') throw internal('model file /var/lib/models/x.onnx is corrupt');
              throw notFound(`model ${request.model} not found`);
            },
            quiet,
          ),
        },
      },
    ],
  });
  downstream.setServing(true);
  const downstreamClient = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${downstream.port}`);
  const deadClient = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${await freePort()}`);
  const forward = (client: grpc.Client & { Classify: (...args: unknown[]) => grpc.ClientUnaryCall }, request: ClassifyRequest) =>
    unaryCall<ClassifyRequest, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: 2_000 });

  // The service under test passes downstream failures on unwrapped, or relayed under the hop's name.
  const front = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: quiet.logger,
    services: [
      {
        name: 'maas.v1.Gateway',
        definition: classifyDefinition,
        implementation: {
          Classify: unary<ClassifyRequest, ClassifyResponse__Output>(
            'Classify',
            async (request) => {
              // 'relay:<name>' relays the failure under the hop's name; '<name>' lets it through unwrapped.
              const model = request.model ?? '';
              const relay = model.startsWith('relay:');
              const name = relay ? model.slice('relay:'.length) : model;
              const call = forward((name === 'dead' ? deadClient : downstreamClient) as never, { ...request, model: name });
              if (!relay) return call;
              try {
                return await call;
              } catch (error) {
                throw relayError(error as grpc.ServiceError, 'tokenizer');
              }
            },
            ctx,
          ),
        },
      },
    ],
  });
  front.setServing(true);
  const frontClient = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${front.port}`);
  t.teardown(async () => {
    for (const client of [frontClient, downstreamClient, deadClient]) client.close();
    await front.stop({ graceMs: 0, deadlineMs: 1_000 });
    await downstream.stop({ graceMs: 0, deadlineMs: 1_000 });
  });
  const failure = async (model: string) => (await t.throwsAsync(forward(frontClient as never, { model, texts: ['a'] }))) as grpc.ServiceError;

  t.like(await failure('nope'), { code: grpc.status.NOT_FOUND, details: 'model nope not found' });
  t.like(await failure('relay:nope'), { code: grpc.status.NOT_FOUND, details: 'tokenizer: model nope not found' });
  t.like(await failure('dead'), { code: grpc.status.UNAVAILABLE, details: 'a dependency is unavailable' });
  t.like(await failure('relay:dead'), { code: grpc.status.UNAVAILABLE, details: 'tokenizer is unavailable' });
  for (const model of ['crash', 'relay:crash']) {
    const error = await failure(model);
    t.is(error.code, grpc.status.INTERNAL, model);
    t.regex(error.details, /^internal error \(request id [0-9a-f]{12}\)$/, model);
    t.notRegex(error.message, /corrupt|\/var/);
  }
  // The operator still finds the original text in the log, under the request id the caller was given.
  const logged = lines.filter((line) => line.msg === 'handler failed unexpectedly');
  t.is(logged.length, 2);
  t.true(logged.every((line) => JSON.stringify(line.err).includes('model file /var/lib/models/x.onnx is corrupt') && typeof line.requestId === 'string'));
});
