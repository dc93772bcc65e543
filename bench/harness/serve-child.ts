/**
 * The server side of child-server.ts, for a bench server's own process: binds a free loopback port, prints
 * "listening <port>" (what startChildServer waits for), and exits on SIGTERM. Plaintext unless given credentials
 * (the echo server is the bare transport; the naive peer serves TLS like the gateway).
 */
import * as grpc from '@grpc/grpc-js';

export function serveUntilStopped(server: grpc.Server, name: string, credentials = grpc.ServerCredentials.createInsecure()): void {
  server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
    if (error) {
      console.error(`${name}: ${error.message}`);
      process.exit(1);
    }
    console.log(`listening ${port}`);
  });
  process.once('SIGTERM', () => {
    server.forceShutdown();
    // An explicit exit, so the profiling preload writes its profile.
    process.exit(0);
  });
}
