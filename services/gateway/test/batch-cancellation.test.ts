// A coalesced Classify batch over real gRPC: its tokenizer call is cancelled when, and only when, every caller
// of the batch has gone away. The tokenizer here is a stand-in that holds every Encode call (the real one
// answers too fast to catch a call in flight); it records what its caller did.
import { EventEmitter, once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { contracts, Status, type ModelManifest__Output } from '@maas/protos';
import { createClient, createLogger, createServiceMetrics } from '@maas/shared';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import test from 'ava';
import { createBatchExecutor, type ClassifyMeta } from '../src/classify-handler.js';
import { Coalescer } from '../src/coalescer.js';
import { createGatewayMetrics } from '../src/gateway-metrics.js';
import type { LabelScore } from '../src/postprocess.js';
import { ReadinessTracker } from '../src/readiness.js';

class Caller extends EventEmitter {
  cancelled = false;
  leave(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }
}

test('a merged batch keeps its downstream call while one caller remains, and cancels it when the last leaves', async (t) => {
  const held: Array<{ call: grpc.ServerUnaryCall<unknown, unknown>; cancelled: Promise<unknown> }> = [];
  const arrived = new EventEmitter();
  const server = new grpc.Server();
  server.addService(contracts().maas.v1.Tokenizer.service, {
    Encode: (call: grpc.ServerUnaryCall<unknown, unknown>) => {
      held.push({ call, cancelled: once(call, 'cancelled') });
      arrived.emit('call');
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const clients = {
    tokenizer: createClient(contracts().maas.v1.Tokenizer, `127.0.0.1:${port}`),
    inference: createClient(contracts().inference.GRPCInferenceService, '127.0.0.1:1'),
  };
  const logger = createLogger({ service: 'gateway-test', level: 'silent' });
  const readiness = new ReadinessTracker({ probe: async () => true, pollIntervalMs: 60_000, probeTimeoutMs: 1_000, logger });
  const metrics = createGatewayMetrics({ metrics: createServiceMetrics({ service: 'gateway' }), queueDepths: () => [], routableVersions: () => [] });
  t.teardown(() => {
    readiness.stop();
    clients.tokenizer.close();
    clients.inference.close();
    server.forceShutdown();
  });
  const coalescer = new Coalescer<ClassifyMeta, LabelScore>({
    maxDelayMs: 0,
    maxBatchTexts: 256,
    maxQueueTexts: 1_000,
    maxInFlight: 1,
    execute: createBatchExecutor({ clients, readiness, metrics }),
  });
  const meta: ClassifyMeta = { manifest: { outputs: [], labels: [], output_activation: '' } as unknown as ModelManifest__Output, traceContext: ROOT_CONTEXT };
  const callers = [new Caller(), new Caller()];
  const deadline = new Date(Date.now() + 30_000);
  const answers = callers.map((caller, index) => coalescer.submit({ model: 'm', version: '1', texts: [`text ${index}`], meta, deadline, caller }));

  await once(arrived, 'call');
  t.is(held.length, 1, 'both callers share one tokenizer call');
  callers[0]!.leave();
  // The remaining caller still wants its answer: the call stays up (checked after a loopback round trip).
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.false(held[0]!.call.cancelled);

  callers[1]!.leave();
  await held[0]!.cancelled;
  t.true(held[0]!.call.cancelled);
  for (const outcome of await Promise.allSettled(answers)) {
    t.is(outcome.status, 'rejected');
    t.is(((outcome as PromiseRejectedResult).reason as { code?: number }).code, Status.CANCELLED);
  }
});
