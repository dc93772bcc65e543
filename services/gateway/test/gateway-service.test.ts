// The real gateway on port 0 with no other service reachable: what it answers on its own (health, server
// metadata, validation, errors while the registry is unreachable) over real gRPC.
import * as grpc from '@grpc/grpc-js';
import { contracts, Status, type ClassifyResponse__Output, type GatewayClient, type GRPCInferenceServiceClient } from '@maas/protos';
import { createClient, createLogger, unaryCall } from '@maas/shared';
import test from 'ava';
import { service as healthService } from 'grpc-health-check';
import { testPki } from '../../../test/support/test-pki.js';
import { loadConfig, startGatewayService, type RunningGatewayService } from '../src/index.js';

/** An address nothing listens on (port 1 is privileged and unused). */
const NOWHERE = '127.0.0.1:1';

let gateway: RunningGatewayService;
let client: GatewayClient;
let oip: GRPCInferenceServiceClient;

test.before(async () => {
  const pki = await testPki();
  const config = loadConfig({
    ...pki.env('gateway'),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    REGISTRY_ADDRESS: NOWHERE,
    TOKENIZER_ADDRESS: NOWHERE,
    INFERENCE_ADDRESS: NOWHERE,
    NATS_URL: 'nats://127.0.0.1:1',
    SHUTDOWN_GRACE_MS: '0',
    MAX_BATCH_TEXTS: '4',
    MAX_TEXT_BYTES: '8',
  });
  gateway = await startGatewayService(config, { logger: createLogger({ service: 'gateway', level: 'silent' }) });
  client = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${gateway.port}`, pki.clientOptions('admin'));
  oip = createClient(contracts().inference.GRPCInferenceService, `127.0.0.1:${gateway.port}`, pki.clientOptions('admin'));
});

test.after.always(async () => {
  client?.close();
  oip?.close();
  await gateway?.stop();
});

const classify = (request: { model?: string; texts?: string[]; routing_key?: string }) =>
  unaryCall<typeof request, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: 5_000 });

async function codeOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as grpc.ServiceError).code, details: (error as grpc.ServiceError).details };
  }
  throw new Error('expected the call to fail');
}

test('health is NOT_SERVING while no registry snapshot has been read', async (t) => {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const { credentials, channelOptions } = (await testPki()).clientOptions('admin');
  const health = new Health(`127.0.0.1:${gateway.port}`, credentials!, channelOptions) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  t.teardown(() => health.close());
  for (const name of ['', 'maas.v1.Gateway', 'inference.GRPCInferenceService']) {
    const reply = await new Promise<{ status: string }>((resolve, reject) =>
      health.check!({ service: name }, (error: Error | null, response: { status: string }) => (error ? reject(error) : resolve(response))),
    );
    t.is(reply.status, 'NOT_SERVING', `service "${name}"`);
  }
});

test('Classify validates before anything else, naming the index and the limit', async (t) => {
  t.like(await codeOf(classify({ texts: ['a'] })), { code: Status.INVALID_ARGUMENT, details: 'model is required' });
  t.like(await codeOf(classify({ model: 'sentiment', texts: [] })), { code: Status.INVALID_ARGUMENT });
  t.like(await codeOf(classify({ model: 'sentiment', texts: ['a', 'b', 'c', 'd', 'e'] })), {
    code: Status.INVALID_ARGUMENT,
    details: 'texts has 5 entries; the limit is 4',
  });
  // Three characters of three bytes each: 9 bytes of UTF-8 over a limit of 8.
  t.like(await codeOf(classify({ model: 'sentiment', texts: ['ok', '€€€'] })), {
    code: Status.INVALID_ARGUMENT,
    details: 'texts[1] is 9 bytes; the limit is 8',
  });
});

test('Classify is UNAVAILABLE while the registry has not been read', async (t) => {
  const { code, details } = await codeOf(classify({ model: 'sentiment', texts: ['fine'] }));
  t.is(code, Status.UNAVAILABLE);
  t.regex(details, /has not read the model registry/);
});

test('OIP server-level calls are answered by the gateway itself', async (t) => {
  const call = <Res>(method: 'ServerLive' | 'ServerReady' | 'ServerMetadata') =>
    unaryCall<object, Res>((r, md, o, cb) => (oip[method] as (...args: unknown[]) => grpc.ClientUnaryCall).call(oip, r, md, o, cb), {}, { deadline: 5_000 });
  t.deepEqual(await call('ServerLive'), { live: true });
  t.deepEqual(await call('ServerReady'), { ready: false });
  t.like(await call<{ name: string; version: string }>('ServerMetadata'), { name: 'maas-gateway', version: '0.1.0' });
});

test('OIP model calls need a model name and the registry', async (t) => {
  const infer = (request: object) => unaryCall<object, unknown>((r, md, o, cb) => oip.ModelInfer(r, md, o, cb), request, { deadline: 5_000 });
  t.like(await codeOf(infer({ model_name: '' })), { code: Status.INVALID_ARGUMENT, details: 'model_name is required' });
  t.like(await codeOf(infer({ model_name: 'sentiment' })), { code: Status.UNAVAILABLE });
});

test('/metrics exposes the gateway metrics, with client-supplied model names folded', async (t) => {
  await codeOf(classify({ model: 'no-such-model-xyz', texts: ['a'] }));
  const text = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
  t.regex(text, /maas_gateway_requests_total\{method="Classify",model="_unknown",code="UNAVAILABLE"/);
  t.notRegex(text, /no-such-model-xyz/);
  t.regex(text, /maas_grpc_server_requests_total\{method="Classify"/);
});
