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
