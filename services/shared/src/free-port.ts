import net from 'node:net';

/**
 * Where freePort looks: below Linux's default ephemeral range (32768–60999), from which every bind to port 0 (a
 * server started with GRPC_PORT=0, an outgoing connection) takes its port. A port handed out by freePort is bound
 * by its user a little later; drawn from the ephemeral range, the OS could give it to another port-0 bind in
 * between (seen as EADDRINUSE when tests run side by side). Drawn at random from here, only another freePort
 * caller could take it, with a chance of about one in ten thousand.
 */
const FREE_PORT_RANGE = { first: 20_000, last: 32_000 } as const;
const ATTEMPTS = 50;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port nothing listens on right now: for `npm start`'s free-port mode and for tests that need an
 * address where nothing answers (a service that is down, a NATS that is not) or a port to give a child process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = FREE_PORT_RANGE.first + Math.floor(Math.random() * (FREE_PORT_RANGE.last - FREE_PORT_RANGE.first));
    if (await canListen(port)) return port;
  }
  // A crowded range: fall back to one the OS picks.
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
