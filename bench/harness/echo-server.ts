/**
 * The baseline's server, run as its own process (as each service is): bare grpc-js, one unary method that
 * answers with the bytes it received. No protobuf decoding, no interceptors, no telemetry — what is left is
 * the transport every service pays, so its rate is the most any unary service can reach on this machine.
 * Prints "listening <port>" once bound; exits on SIGTERM.
 */
import * as grpc from '@grpc/grpc-js';
import { serveUntilStopped } from './serve-child.js';

/** The method's path; requests and answers are raw bytes. */
export const ECHO_PATH = '/maas.bench.Echo/Echo';

const identity = (bytes: Buffer) => bytes;

function main(): void {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const definition: grpc.ServiceDefinition = {
    Echo: {
      path: ECHO_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  server.addService(definition, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request) });
  serveUntilStopped(server, 'echo server');
}

if (require.main === module) main();
