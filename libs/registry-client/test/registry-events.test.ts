/** Registry events over the real NATS at NATS_URL (default nats://127.0.0.1:4222), with a unique model per test. */
import { createLogger } from '@maas/shared';
import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import {
  connectRegistryEventBus,
  eventRevision,
  registrySubject,
  rolloutChangedCodec,
  subscribeRegistryEvents,
  type ReceivedRegistryEvent,
} from '../src/registry-events.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

test('a registry event published on one bus reaches a subscriber on another', async (t) => {
  const publisher = connectRegistryEventBus({ url: natsUrl, name: 'test-publisher', logger });
  const subscriber = connectRegistryEventBus({ url: natsUrl, name: 'test-subscriber', logger });
  t.teardown(() => Promise.all([publisher.close(), subscriber.close()]));
  const received: ReceivedRegistryEvent[] = [];
  const model = `events-test-${process.pid}-${Date.now()}`;
  const consuming = subscribeRegistryEvents(subscriber, async (event) => {
    if (event.model === model) received.push(event);
  });
  t.true(await eventually('NATS reachable at NATS_URL (CI starts one)', () => publisher.connected && subscriber.connected));
  // The consumer delivers events published from now on: wait until it is in place.
  await consuming;
  const payload = rolloutChangedCodec.encode({ revision: 42, model, rollout: { model, stable_version: '1' } });
  t.true(await publisher.publish(registrySubject(model, 'rollout-changed'), payload));
  t.true(await eventually('the event arrives', () => received.length === 1));
  t.is(received[0]!.kind, 'rollout-changed');
  t.is(eventRevision(received[0]!.kind, received[0]!.payload), 42);
});
