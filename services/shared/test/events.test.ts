import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import test from 'ava';
import { connectEventBus, registrySubject, type ReceivedRegistryEvent } from '../src/events.js';
import { createLogger } from '../src/logger.js';
import { eventRevision, rolloutChangedCodec } from '../src/registry-watch.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 25));
  return condition();
}

test('a registry event published on one bus reaches a subscriber on another', async (t) => {
  const publisher = connectEventBus({ url: natsUrl, name: 'test-publisher', logger });
  const subscriber = connectEventBus({ url: natsUrl, name: 'test-subscriber', logger });
  const received: ReceivedRegistryEvent[] = [];
  const model = `events-test-${process.pid}-${Date.now()}`;
  subscriber.subscribeRegistry(async (event) => {
    if (event.model === model) received.push(event);
  });
  t.true(await until(() => publisher.connected && subscriber.connected), 'NATS must be reachable at NATS_URL');
  // The ordered consumer is created right after connecting; give it a moment to exist before publishing.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const payload = rolloutChangedCodec.encode({ revision: 42, model, rollout: { model, stable_version: '1' } });
  t.true(await publisher.publish(registrySubject(model, 'rollout-changed'), payload));
  t.true(await until(() => received.length === 1));
  t.is(received[0]!.kind, 'rollout-changed');
  t.is(eventRevision(received[0]!.kind, received[0]!.payload), 42);
  await publisher.close();
  await subscriber.close();
});

test('with NATS unreachable the bus reports disconnected and publish resolves false', async (t) => {
  const bus = connectEventBus({ url: 'nats://127.0.0.1:1', name: 'test-offline', logger, retryMs: 60_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(bus.connected);
  t.false(await bus.publish(registrySubject('m', 'version-registered'), new Uint8Array()));
  await bus.close();
});

/** Starts a nats-server without JetStream (monitoring on too) on free ports; undefined when it is not installed. */
async function startNatsWithoutJetStream(): Promise<{ url: string; monitorUrl: string; stop: () => Promise<void> } | undefined> {
  const binary = '/usr/sbin/nats-server';
  if (!fs.existsSync(binary)) return undefined;
  const [port, monitorPort] = [await freePort(), await freePort()];
  const server = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  let up = false;
  const end = Date.now() + 5_000;
  while (!up && Date.now() < end) {
    up = await fetch(`${monitorUrl}/healthz`).then((response) => response.ok, () => false);
    if (!up) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = async () => {
    server.kill();
    await exited;
  };
  if (!up) {
    await stop();
    throw new Error('nats-server did not start');
  }
  return { url: `nats://127.0.0.1:${port}`, monitorUrl, stop };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connections the server lists in `state` (open or closed) under the given connection name. */
async function connectionsNamed(monitorUrl: string, name: string, state: 'open' | 'closed'): Promise<number> {
  const response = await fetch(`${monitorUrl}/connz?state=${state}&limit=1024`);
  const body = (await response.json()) as { connections?: Array<{ name?: string }> };
  return (body.connections ?? []).filter((connection) => connection.name === name).length;
}

test('a server without JetStream: each failed attempt closes its connection instead of leaking it', async (t) => {
  const nats = await startNatsWithoutJetStream();
  if (!nats) {
    t.log('nats-server is not installed; skipped');
    t.pass();
    return;
  }
  const name = 'test-no-jetstream';
  const bus = connectEventBus({ url: nats.url, name, logger, retryMs: 50 });
  try {
    // Several attempts must have reached the server (and been closed) ...
    let closedCount = 0;
    const end = Date.now() + 10_000;
    while (closedCount < 3 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      closedCount = await connectionsNamed(nats.monitorUrl, name, 'closed');
    }
    t.true(closedCount >= 3, `attempts closed: ${closedCount}`);
    // ... while at most the attempt in flight holds a connection open.
    t.true((await connectionsNamed(nats.monitorUrl, name, 'open')) <= 1);
    t.false(bus.connected);
  } finally {
    await bus.close();
    await nats.stop();
  }
});
