// Receive limits per method, measured: a burst of oversize calls, written as raw HTTP/2 so the sender holds
// one small buffer, against a real grpc-js server; the server's memory must not grow with what was sent.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { contracts, type ClassifyRequest, type ClassifyResponse__Output } from '@maas/protos';
import test from 'ava';
import pino from 'pino';
import { createClient, unaryCall } from '../src/grpc-client.js';
import { startGrpcServer } from '../src/grpc-server.js';
import { unary } from '../src/handlers.js';
import { createServiceMetrics } from '../src/metrics.js';
import { textsRequestBytes } from '../src/input-limits.js';

const CLASSIFY_LIMIT = textsRequestBytes({ maxTexts: 256, maxTextBytes: 16_384 });
const INFER_LIMIT = 16 * 1024 * 1024;

async function startServer() {
  const ctx = { logger: pino({ level: 'silent' }), metrics: createServiceMetrics({ service: 'receive-limits-test' }) };
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: ctx.logger,
    receiveLimits: { methods: { Classify: CLASSIFY_LIMIT, ModelInfer: INFER_LIMIT } },
    services: [
      {
        name: 'maas.v1.Gateway',
        definition: contracts().maas.v1.Gateway.service,
        implementation: {
          Classify: unary<ClassifyRequest, ClassifyResponse__Output>(
            'Classify',
            async (request) => ({ predictions: (request.texts ?? []).map(() => ({ label: 'ok', score: 1, model_version: '1', scores: [] })) }),
            ctx,
          ),
        },
      },
    ],
  });
  server.setServing(true);
  return server;
}

const chunk = Buffer.alloc(64 * 1024, 0x41);

/**
 * One gRPC call as raw HTTP/2: a message of `bytes` (the length prefix, then `chunk` over and over, each write
 * waiting for the last to drain); resolves with its grpc-status and message.
 */
function rawCall(session: http2.ClientHttp2Session, path: string, bytes: number): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    let status: { code: number; details: string } | undefined;
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined)
        status = { code: Number(headers['grpc-status']), details: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('error', () => undefined);
    stream.on('close', () => resolve(status ?? { code: -1, details: `stream closed (rst ${stream.rstCode})` }));
    stream.resume();
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(bytes, 1);
    stream.write(prefix);
    let left = bytes;
    const pump = () => {
      while (left > 0 && !stream.destroyed && status === undefined) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!stream.write(piece)) return void stream.once('drain', pump);
      }
      if (!stream.destroyed) stream.end();
    };
    pump();
  });
}

test('a burst of oversize calls is refused per method from the length prefix; memory stays flat and normal calls go on', async (t) => {
  const server = await startServer();
  const session = http2.connect(`http://127.0.0.1:${server.port}`, { maxSessionMemory: 256 });
  const client = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${server.port}`);
  t.teardown(async () => {
    client.close();
    session.close();
    await server.stop({ graceMs: 0, deadlineMs: 1_000 });
  });
  const classify = (texts: string[]) =>
    unaryCall<object, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), { model: 'm', texts }, { deadline: 5_000 });
  t.is((await classify(['warm up'])).predictions.length, 1);

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  // 32 calls of 12 MiB: under the server's largest limit (ModelInfer's 16 MiB) but 3× Classify's. Buffered,
  // they would be 384 MiB; refused from their prefix, nothing of them is kept.
  const BURST = 32;
  const OVERSIZE = 12 * 1024 * 1024;
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: BURST }, () => rawCall(session, '/maas.v1.Gateway/Classify', OVERSIZE)));
  clearInterval(sampler);
  const grewMiB = (peak - baseline) / 1024 / 1024;
  t.log(
    `${BURST} Classify calls of ${OVERSIZE / 1024 / 1024} MiB (limit ${(CLASSIFY_LIMIT / 1024 / 1024).toFixed(1)} MiB) refused in ${Date.now() - started} ms; RSS grew ${grewMiB.toFixed(1)} MiB at peak`,
  );
  t.log(`first answer: ${results[0]!.details}`);
  for (const result of results) t.is(result.code, grpc.status.RESOURCE_EXHAUSTED, result.details);
  t.true(grewMiB < 64, `RSS grew ${grewMiB.toFixed(1)} MiB`);
  // A well-sized call on the same server still answers.
  t.is((await classify(['after the burst'])).predictions.length, 1);
});

test('a message just over its method limit but under the server limit is RESOURCE_EXHAUSTED; one within it passes', async (t) => {
  const server = await startServer();
  const client = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${server.port}`);
  t.teardown(async () => {
    client.close();
    await server.stop({ graceMs: 0, deadlineMs: 1_000 });
  });
  const classify = (texts: string[]) =>
    unaryCall<object, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), { model: 'm', texts }, { deadline: 10_000 });
  const big = 'x'.repeat(16_384);
  t.is((await classify(Array.from({ length: 256 }, () => big))).predictions.length, 256);
  const error = (await t.throwsAsync(classify(Array.from({ length: 300 }, () => big)))) as grpc.ServiceError;
  t.is(error.code, grpc.status.RESOURCE_EXHAUSTED);
  t.regex(error.details, /larger than max|limit is/);
});
