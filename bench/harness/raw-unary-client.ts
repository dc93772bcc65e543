/**
 * The load generator's client: raw grpc-js unary calls carrying requests serialized once, up front, and
 * answers left as bytes. The generator shares two cores with the services it measures, so per request it does
 * no protobuf work at all — what it costs is the HTTP/2 framing every client pays. An answer is decoded only
 * when a benchmark checks it (once per measurement, not per request).
 */
import * as grpc from '@grpc/grpc-js';
import type { ClientOptions } from '@maas/shared';

/** A unary method as a grpc-js service definition describes it (path and codecs). */
export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

/** Requests for one method, serialized once; the generator cycles through them. */
export interface PreparedRequests<Res> {
  path: string;
  bodies: readonly Buffer[];
  decode(bytes: Buffer): Res;
}

export function prepareRequests<Req, Res>(method: UnaryMethod<Req, Res>, requests: readonly Req[]): PreparedRequests<Res> {
  if (requests.length === 0) throw new Error(`no requests prepared for ${method.path}`);
  return { path: method.path, bodies: requests.map((request) => method.requestSerialize(request)), decode: (bytes) => method.responseDeserialize(bytes) };
}

const identity = (bytes: Buffer) => bytes;

export type RawCallback = (error: grpc.ServiceError | null, response?: Buffer) => void;

export interface RawUnaryClient {
  /** Sends already-serialized bytes to `path`; the answer comes back undecoded. */
  call(path: string, body: Buffer, timeoutMs: number, callback: RawCallback): void;
  close(): void;
}

/**
 * One HTTP/2 connection to `address`, as a plain client of the mesh would hold: with `options` TLS and the
 * bearer token a real client sends (the mesh runs with security on). Retries and channelz are off: the
 * generator never wants a call retried, and both add per-call bookkeeping (measured: ~5% of the client's
 * ~120 µs of CPU per call).
 */
export function createRawUnaryClient(address: string, options: ClientOptions = {}): RawUnaryClient {
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    ...options.channelOptions,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
  });
  return {
    call(path, body, timeoutMs, callback) {
      client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + timeoutMs }, (error, response) => callback(error, response));
    },
    close: () => client.close(),
  };
}

/** One call as a promise (set-up and checks, not the measured loop). */
export function callOnce<Res>(client: RawUnaryClient, prepared: PreparedRequests<Res>, index = 0, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.call(prepared.path, prepared.bodies[index % prepared.bodies.length]!, timeoutMs, (error, response) => {
      if (error) reject(error);
      else resolve(prepared.decode(response!));
    });
  });
}

/** One call on a client of its own (the set-up check each benchmark makes before it measures). */
export async function callOnceAt<Res>(address: string, prepared: PreparedRequests<Res>, options: ClientOptions = {}): Promise<Res> {
  const client = createRawUnaryClient(address, options);
  try {
    return await callOnce(client, prepared);
  } finally {
    client.close();
  }
}
