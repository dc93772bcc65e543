import net from 'node:net';

/**
 * A loopback port nothing listens on right now (bound to port 0, then released): for `npm start`'s free-port
 * mode and for tests that need an address where nothing answers (a service that is down, a NATS that is not).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
