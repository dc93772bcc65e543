import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { toStatusObject } from './errors.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

/** What every wrapped handler needs. */
export interface HandlerContext {
  logger: Logger;
  metrics: ServiceMetrics;
}

/** Records the outcome of one call and turns a thrown error into its gRPC status. */
function finish(ctx: HandlerContext, method: string, startedAt: bigint, error: unknown): (grpc.StatusObject & { message: string }) | null {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  ctx.metrics.requestDuration.observe({ method }, seconds);
  if (error === undefined) {
    ctx.metrics.requests.inc({ method, code: 'OK' });
    return null;
  }
  const status = toStatusObject(error);
  ctx.metrics.requests.inc({ method, code: grpc.status[status.code] ?? String(status.code) });
  if (status.unexpected) {
    // The caller gets a generic message; the request id finds the real text in our log.
    const requestId = randomBytes(6).toString('hex');
    ctx.logger.error({ err: error, method, requestId }, 'handler failed unexpectedly');
    const details = `${status.details} (request id ${requestId})`;
    // `message`: what the gRPC instrumentation writes as the server span's status message (grpc-js sends `details`).
    return { code: status.code, details, message: details, metadata: new grpc.Metadata() };
  }
  ctx.logger.debug({ method, code: grpc.status[status.code], details: status.details }, 'call failed');
  return { code: status.code, details: status.details, message: status.details, metadata: new grpc.Metadata() };
}

/** Runs a call that answers once (unary, client-streaming) and sends its response or its error's status. */
function answer<Res>(ctx: HandlerContext, method: string, run: () => Promise<Res>, callback: grpc.sendUnaryData<Res>): void {
  const startedAt = process.hrtime.bigint();
  run().then(
    (response) => {
      finish(ctx, method, startedAt, undefined);
      callback(null, response);
    },
    (error: unknown) => callback(finish(ctx, method, startedAt, error)),
  );
}

/** Wraps an async unary implementation: metrics, logging and error → status mapping. */
export function unary<Req, Res>(
  method: string,
  implementation: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
  ctx: HandlerContext,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => answer(ctx, method, () => implementation(call.request, call), callback);
}

/** Wraps an async client-streaming implementation. */
export function clientStream<Req, Res>(
  method: string,
  implementation: (call: grpc.ServerReadableStream<Req, Res>) => Promise<Res>,
  ctx: HandlerContext,
): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => answer(ctx, method, () => implementation(call), callback);
}

/** Wraps an async server-streaming implementation; it writes to `call` and resolves when done. */
export function serverStream<Req, Res>(
  method: string,
  implementation: (request: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
  ctx: HandlerContext,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const startedAt = process.hrtime.bigint();
    implementation(call.request, call).then(
      () => {
        finish(ctx, method, startedAt, undefined);
        call.end();
      },
      (error: unknown) => {
        const status = finish(ctx, method, startedAt, error);
        // emit('error') is how grpc-js sends a status on a server stream; destroy() would drop it and leave
        // the client waiting for its deadline.
        if (status && !call.cancelled) call.emit('error', { code: status.code, details: status.details, message: status.details, metadata: status.metadata });
      },
    );
  };
}
