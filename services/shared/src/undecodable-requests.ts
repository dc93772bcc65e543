/**
 * A request message that does not decode is the caller's mistake: INVALID_ARGUMENT, not the INTERNAL grpc-js
 * answers by itself (its deserializer's failure status is fixed). The service definitions' deserializers are
 * wrapped to return a marker instead of throwing, and an interceptor answers the marker before any handler
 * sees it.
 */
import * as grpc from '@grpc/grpc-js';

const UNDECODABLE = Symbol('undecodable request');

interface Undecodable {
  [UNDECODABLE]: string;
}

function isUndecodable(message: unknown): message is Undecodable {
  return typeof message === 'object' && message !== null && UNDECODABLE in message;
}

/** `definition` whose request deserializers return a marker (read by undecodableRequestInterceptor) instead of throwing. */
export function tolerantDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            const why = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 120) : 'malformed';
            return { [UNDECODABLE]: why } satisfies Undecodable;
          }
        },
      },
    ]),
  ) as grpc.ServiceDefinition;
}

/** Answers INVALID_ARGUMENT, naming the method, to a message tolerantDefinition could not decode. */
export function undecodableRequestInterceptor(): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message, forward) {
            if (!isUndecodable(message)) return forward(message);
            call.sendStatus({
              code: grpc.status.INVALID_ARGUMENT,
              details: `the request is not a valid ${method.path.split('/')[2] ?? ''} request message (protobuf: ${message[UNDECODABLE]})`,
            });
          },
        });
      },
    });
}
