/** Registry events on the real NATS at NATS_URL (default nats://127.0.0.1:4222), with a unique model per test. */
import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  messageCodec,
  type AliasChanged,
  type AliasChanged__Output,
  type AuditEvent,
  type AuditEvent__Output,
  type RolloutChanged,
  type RolloutChanged__Output,
  type VersionRegistered,
  type VersionRegistered__Output,
} from '@maas/protos';
import { eventRevision, REGISTRY_STREAM, registrySubject } from '@maas/registry-client';
import { registerPackage, uniqueModelName } from '../../../test/support/model-packages.js';
import { registryCalls, startTestRegistry } from '../../../test/support/test-registry.js';
import { eventually } from '../../../test/support/eventually.js';
import { nestedFakePackage } from './registry-helpers.js';

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const auditEvent = messageCodec<AuditEvent, AuditEvent__Output>('maas.v1.AuditEvent');
const versionRegistered = messageCodec<VersionRegistered, VersionRegistered__Output>('maas.v1.VersionRegistered');
const rolloutChanged = messageCodec<RolloutChanged, RolloutChanged__Output>('maas.v1.RolloutChanged');

async function natsConnection(): Promise<NatsConnection> {
  return connect({ servers: natsUrl, timeout: 2_000 });
}

test('registration and rollout changes are published with their subject, payload and revision', async (t) => {
  const nc = await natsConnection();
  t.teardown(() => nc.close());
  const { client, registry, stop } = await startTestRegistry({ natsUrl });
  t.teardown(stop);
  t.true(await eventually('the registry connects to NATS', () => registry.eventBus.connected));

  const model = uniqueModelName('events');
  const received: Msg[] = [];
  const audited: Msg[] = [];
  nc.subscribe(`maas.events.registry.${model}.>`, {
    callback: (error, message) => {
      if (error) return;
      // The audit log's events share the stream; they are checked at the end.
      if (message.subject.endsWith('.audit-recorded')) audited.push(message);
      else received.push(message);
    },
  });
  await nc.flush();

  const version = await registerPackage(client, nestedFakePackage({ name: model, version: '1' }));
  const rollout = await registryCalls(client).setRollout({ model, stable_version: '1' });
  t.true(await eventually('two events arrive', () => received.length === 2));

  t.is(received[0]!.subject, registrySubject(model, 'version-registered'));
  t.deepEqual(versionRegistered.decode(received[0]!.data), { revision: version.revision, model, version: '1', occurred_at: version.created_at });
  t.is(received[1]!.subject, registrySubject(model, 'rollout-changed'));
  const change = rolloutChanged.decode(received[1]!.data);
  t.is(change.revision, rollout.revision);
  t.true(change.revision > version.revision);
  t.deepEqual(change.rollout, rollout);

  // Persisted in the registry's JetStream stream, so a consumer that was away catches up.
  const jsm = await jetstreamManager(nc);
  const stored = await jsm.streams.getMessage(REGISTRY_STREAM, { last_by_subj: registrySubject(model, 'rollout-changed') });
  t.is(rolloutChanged.decode(stored!.data).revision, rollout.revision);

  // A SetRollout that changes nothing publishes nothing.
  await registryCalls(client).setRollout({ model, stable_version: '1' });
  await nc.flush();
  await registerPackage(client, nestedFakePackage({ name: model, version: '2' }));
  t.true(await eventually('a third event arrives', () => received.length === 3));
  t.is(received[2]!.subject, registrySubject(model, 'version-registered'));
  // Every write is also an audit event, the one that changed nothing included.
  t.true(await eventually('four audit events arrive', () => audited.length === 4));
  t.deepEqual(
    audited.map((message) => auditEvent.decode(message.data).action),
    ['RegisterVersion', 'SetRollout', 'SetRollout', 'RegisterVersion'],
  );
});

test('alias changes are published as AliasChanged with the previous version; a no-op publishes nothing', async (t) => {
  const aliasChanged = messageCodec<AliasChanged, AliasChanged__Output>('maas.v1.AliasChanged');
  const nc = await natsConnection();
  t.teardown(() => nc.close());
  const { client, registry, stop } = await startTestRegistry({ natsUrl });
  t.teardown(stop);
  t.true(await eventually('the registry connects to NATS', () => registry.eventBus.connected));
  const model = uniqueModelName('alias-events');
  await registerPackage(client, nestedFakePackage({ name: model, version: '1' }));
  await registerPackage(client, nestedFakePackage({ name: model, version: '2' }));

  const received: Msg[] = [];
  nc.subscribe(registrySubject(model, 'alias-changed'), {
    callback: (error, message) => {
      if (!error) received.push(message);
    },
  });
  await nc.flush();
  const calls = registryCalls(client);
  const set = await calls.setAlias({ model, alias: 'production', version: '1' });
  await calls.setAlias({ model, alias: 'production', version: '1' });
  const moved = await calls.setAlias({ model, alias: 'production', version: '2' });
  const removed = await calls.setAlias({ model, alias: 'production', version: '' });
  t.true(await eventually('three events arrive', () => received.length === 3));
  t.is(received[0]!.subject, `maas.events.registry.${model}.alias-changed`);
  const events = received.map((message) => aliasChanged.decode(message.data));
  t.deepEqual(events[0], { revision: set.revision, model, alias: 'production', version: '1', previous_version: '', occurred_at: set.updated_at });
  t.like(events[1], { revision: moved.revision, version: '2', previous_version: '1' });
  t.like(events[2], { revision: removed.revision, version: '', previous_version: '2' });
  // Consumers read the revision of every kind to decide whether to resync.
  t.is(eventRevision('alias-changed', received[2]!.data), removed.revision);
});
