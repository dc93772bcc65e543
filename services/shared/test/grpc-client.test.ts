// unaryCall's cancellation over real gRPC on loopback: an aborted signal and a cancelled parent call each
// cancel the outgoing call, and the server serving it sees the cancellation.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { unaryCall } from '../src/grpc-client.js';

const identity = (bytes: Buffer) => bytes;
const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const HOLD = method('/test.Held/Hold');
const FORWARD = method('/test.Front/Forward');

/** A server whose Hold never answers and reports when its caller cancels. */
async function heldServer(t: { teardown(fn: () => void): void }) {
  const server = new grpc.Server();
  const cancelled: Array<Promise<unknown>> = [];
  const started: Array<() => void> = [];
  server.addService(
    { Hold: HOLD },
    {
      Hold: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
        cancelled.push(once(call, 'cancelled'));
        started.splice(0).forEach((notify) => notify());
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => {
    client.close();
    server.forceShutdown();
  });
  const hold = (options: Parameters<typeof unaryCall>[2]) =>
    unaryCall<Buffer, Buffer>(
      (request, metadata, callOptions, callback) => client.makeUnaryRequest(HOLD.path, identity, identity, request, metadata, callOptions, callback),
      Buffer.from('x'),
      options,
    );
  return { port, cancelled, hold, started: () => new Promise<void>((resolve) => started.push(resolve)) };
}

test('aborting the signal cancels the call, and the server sees it cancelled', async (t) => {
  const held = await heldServer(t);
  const controller = new AbortController();
  const started = held.started();
  const answer = held.hold({ deadline: 30_000, signal: controller.signal });
  await started;
  controller.abort();
  const error = await t.throwsAsync(answer);
  t.is((error as grpc.ServiceError).code, grpc.status.CANCELLED);
  await held.cancelled[0];
  t.pass();
});

test('an already aborted signal cancels the call at once', async (t) => {
  const held = await heldServer(t);
  const controller = new AbortController();
  controller.abort();
  const error = await t.throwsAsync(held.hold({ deadline: 30_000, signal: controller.signal }));
  t.is((error as grpc.ServiceError).code, grpc.status.CANCELLED);
});

test('a call made with parent is cancelled when the parent call is', async (t) => {
  const held = await heldServer(t);
  // A front server that forwards each call to the held one, with its own call as the parent.
  const front = new grpc.Server();
  const forwarded: Array<Promise<unknown>> = [];
  front.addService(
    { Forward: FORWARD },
    {
      Forward: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const downstream = held.hold({ deadline: 30_000, parent: call });
        forwarded.push(downstream.catch((error: grpc.ServiceError) => error.code));
        downstream.then(
          (bytes) => callback(null, bytes),
          (error: grpc.ServiceError) => callback(error),
        );
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    front.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => {
    client.close();
    front.forceShutdown();
  });
  const started = held.started();
  const call = client.makeUnaryRequest(FORWARD.path, identity, identity, Buffer.from('x'), { deadline: Date.now() + 30_000 }, () => undefined);
  await started;
  call.cancel();
  await held.cancelled[0];
  t.is(await forwarded[0], grpc.status.CANCELLED);
});
