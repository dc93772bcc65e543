import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import { natsServerBinary, startPrivateNats } from '../../../test/support/private-nats.js';
import { connectEventBus, type EventStream } from '../src/events.js';
import { createLogger } from '../src/logger.js';

const logger = createLogger({ service: 'test', level: 'silent' });
/** A stream of its own: these tests never touch another owner's stream (the registry's is tested in its library). */
const stream: EventStream = { name: 'MAAS_SHARED_EVENTS_TEST', subjects: ['maas.test.shared-events.>'], maxAgeMs: 60_000 };

test('with NATS unreachable the bus reports disconnected and publish resolves false', async (t) => {
  const bus = connectEventBus({ url: 'nats://127.0.0.1:1', name: 'test-offline', logger, stream, retryMs: 60_000 });
  // Nothing to wait for but time: this proves the bus did not report a connection within 300 ms (a refused
  // connection on loopback fails in well under that).
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(bus.connected);
  t.false(await bus.publish('maas.test.shared-events.offline', new Uint8Array()));
  await bus.close();
});

/** Connections the server lists in `state` (open or closed) under the given connection name. */
async function connectionsNamed(monitorUrl: string, name: string, state: 'open' | 'closed'): Promise<number> {
  const response = await fetch(`${monitorUrl}/connz?state=${state}&limit=1024`);
  const body = (await response.json()) as { connections?: Array<{ name?: string }> };
  return (body.connections ?? []).filter((connection) => connection.name === name).length;
}

// Installed wherever .ci/run starts NATS itself; a machine whose NATS runs elsewhere may lack the binary, and
// then this test is reported as skipped, not passed.
const withNatsServer = natsServerBinary ? test : test.skip;

withNatsServer(
  `a server without JetStream: each failed attempt closes its connection instead of leaking it${natsServerBinary ? '' : ' (skipped: no nats-server binary)'}`,
  async (t) => {
    const nats = await startPrivateNats({ jetStream: false });
    const name = 'test-no-jetstream';
    const bus = connectEventBus({ url: nats.url, name, logger, stream, retryMs: 50 });
    try {
      // Several attempts must have reached the server (and been closed) ...
      let closedCount = 0;
      await eventually('three attempts closed', async () => (closedCount = await connectionsNamed(nats.monitorUrl, name, 'closed')) >= 3, {
        timeoutMs: 10_000,
        intervalMs: 50,
      }).catch(() => undefined);
      t.true(closedCount >= 3, `attempts closed: ${closedCount}`);
      // ... while at most the attempt in flight holds a connection open.
      t.true((await connectionsNamed(nats.monitorUrl, name, 'open')) <= 1);
      t.false(bus.connected);
    } finally {
      await bus.close();
      await nats.stop();
    }
  },
);
