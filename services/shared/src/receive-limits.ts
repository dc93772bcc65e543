/**
 * Receive limits per method, so that memory is bounded by what each method accepts rather than by one large
 * server-wide limit: a few oversize Classify calls cannot take a pod past its memory limit.
 *
 * grpc-js has one receive limit per server (`grpc.max_receive_message_length`), checked on a message's length
 * prefix before its bytes are buffered. Three layers give per-method limits on top of it:
 * 1. the server's limit is the largest of its methods' limits (no message above that is ever buffered);
 * 2. a server interceptor lowers that prefix check, call by call, to the method's own limit: grpc-js 1.14 keeps
 *    it in the base call's stream decoder (`decoder.maxReadMessageLength`, not public API; the version is pinned
 *    and the receive-limits test measures the effect), so a 50 MiB Classify is refused from its first 5 bytes;
 * 3. should that field ever move, each method's deserializer still looks at the raw message first: above the
 *    method's limit it does not parse it (parsing multiplies memory: a protobuf turned into JS objects) but
 *    returns a marker, which the interceptor answers with RESOURCE_EXHAUSTED before any handler runs.
 */
import * as grpc from '@grpc/grpc-js';

export interface ReceiveLimits {
  /** Largest request message per method name (e.g. `{ Classify: 4_300_000 }`), in bytes. */
  methods: Readonly<Record<string, number>>;
  /** Largest request of every other method (health, reflection, metadata, admin calls). Default 1 MiB. */
  otherBytes?: number;
}

export const DEFAULT_OTHER_METHOD_RECEIVE_BYTES = 1024 * 1024;

/** Room for a message's framing and small fields beside its bulk (names, ids, parameters). */
export const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/** What a method's deserializer returns instead of a message over its limit. */
class OversizeMessage {
  constructor(
    readonly method: string,
    readonly bytes: number,
    readonly limit: number,
  ) {}
}

/** The server-wide limit these per-method limits need: the largest of them. */
export function serverReceiveLimit(limits: ReceiveLimits): number {
  return Math.max(limits.otherBytes ?? DEFAULT_OTHER_METHOD_RECEIVE_BYTES, ...Object.values(limits.methods));
}

/** `definition` with each method's request deserializer checking the raw size against its limit first. */
export function withReceiveLimits(definition: grpc.ServiceDefinition, limits: ReceiveLimits): grpc.ServiceDefinition {
  const other = limits.otherBytes ?? DEFAULT_OTHER_METHOD_RECEIVE_BYTES;
  const limited: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const methodName = method.path.slice(method.path.lastIndexOf('/') + 1);
    const limit = limits.methods[methodName] ?? other;
    limited[name] = {
      ...method,
      requestDeserialize: (buffer: Buffer) =>
        buffer.length > limit ? new OversizeMessage(methodName, buffer.length, limit) : method.requestDeserialize(buffer),
    };
  }
  return limited as grpc.ServiceDefinition;
}

/** What grpc-js 1.14's base server call holds: the stream decoder whose length-prefix check is the receive limit. */
interface BaseCallInternals {
  decoder?: { maxReadMessageLength?: number };
}

/**
 * The interceptor that applies `limits` (list it first: it reaches the base call's decoder only when handed the
 * base call). Per call: the prefix check goes down to the method's limit; a request the deserializer marked as
 * over it is answered RESOURCE_EXHAUSTED (method, size, limit) and whatever else that call sends is dropped.
 */
export function receiveLimitInterceptor(limits: ReceiveLimits): grpc.ServerInterceptor {
  const other = limits.otherBytes ?? DEFAULT_OTHER_METHOD_RECEIVE_BYTES;
  return (descriptor, call) => {
    const limit = limits.methods[descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1)] ?? other;
    const decoder = (call as unknown as BaseCallInternals).decoder;
    if (decoder && typeof decoder.maxReadMessageLength === 'number' && decoder.maxReadMessageLength > limit) decoder.maxReadMessageLength = limit;
    let refused = false;
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMessage((message, passOn) => {
              if (refused) return;
              if (message instanceof OversizeMessage) {
                refused = true;
                call.sendStatus({
                  code: grpc.status.RESOURCE_EXHAUSTED,
                  details: `${message.method} request is ${message.bytes} bytes; the limit is ${message.limit}`,
                  metadata: new grpc.Metadata(),
                });
                return;
              }
              passOn(message);
            })
            .withOnReceiveHalfClose((passOn) => {
              if (!refused) passOn();
            })
            .build(),
        ),
    });
  };
}
