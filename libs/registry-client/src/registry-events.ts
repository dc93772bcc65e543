/**
 * The registry's events on NATS: the JetStream stream they are kept in, their subjects, and the protobuf codec
 * of each kind. The registry publishes them; every consumer reads them through `subscribeRegistryEvents`.
 */
import {
  messageCodec,
  type AliasChanged,
  type AliasChanged__Output,
  type ArtifactDamaged,
  type ArtifactDamaged__Output,
  type RolloutChanged,
  type RolloutChanged__Output,
  type VersionRegistered,
  type VersionRegistered__Output,
} from '@maas/protos';
import { connectEventBus, type ConnectEventBusOptions, type EventBus, type EventStream } from '@maas/shared';

/** JetStream stream holding the registry's events, so a consumer that was away can catch up. */
export const REGISTRY_STREAM = 'MAAS_REGISTRY';
/** Every registry event's subject starts with this. */
export const REGISTRY_SUBJECT_PREFIX = 'maas.events.registry';

/** The stream as the event bus creates it: every registry subject, kept seven days (consumers also resync). */
export const REGISTRY_EVENT_STREAM: EventStream = { name: REGISTRY_STREAM, subjects: [`${REGISTRY_SUBJECT_PREFIX}.>`] };

export type RegistryEventKind = 'version-registered' | 'rollout-changed' | 'alias-changed' | 'artifact-damaged';
/**
 * The kinds that change what the registry holds: what consumers reconcile on. artifact-damaged is informational
 * (its revision is the registry's current one, nothing changed) and audit-recorded only records a write that
 * its own state event already announces.
 */
const STATE_EVENT_KINDS: ReadonlySet<string> = new Set<RegistryEventKind>(['version-registered', 'rollout-changed', 'alias-changed']);

/** `maas.events.registry.<model>.<kind>`; model names are restricted to [a-z0-9-], safe as a subject token. */
export function registrySubject(model: string, kind: RegistryEventKind): string {
  return `${REGISTRY_SUBJECT_PREFIX}.${model}.${kind}`;
}

export const versionRegisteredCodec = messageCodec<VersionRegistered, VersionRegistered__Output>('maas.v1.VersionRegistered');
export const rolloutChangedCodec = messageCodec<RolloutChanged, RolloutChanged__Output>('maas.v1.RolloutChanged');
export const aliasChangedCodec = messageCodec<AliasChanged, AliasChanged__Output>('maas.v1.AliasChanged');
export const artifactDamagedCodec = messageCodec<ArtifactDamaged, ArtifactDamaged__Output>('maas.v1.ArtifactDamaged');

const REVISION_READERS: Record<RegistryEventKind, (payload: Uint8Array) => number> = {
  'version-registered': (payload) => versionRegisteredCodec.decode(payload).revision,
  'rollout-changed': (payload) => rolloutChangedCodec.decode(payload).revision,
  'alias-changed': (payload) => aliasChangedCodec.decode(payload).revision,
  'artifact-damaged': (payload) => artifactDamagedCodec.decode(payload).revision,
};

/**
 * The registry revision an event carries (every event kind has it as field `revision`). An unknown kind (a newer
 * registry) reads as "newer than anything": the consumer resyncs, which is always safe.
 */
export function eventRevision(kind: RegistryEventKind, payload: Uint8Array): number {
  const read = REVISION_READERS[kind];
  return read ? read(payload) : Number.MAX_SAFE_INTEGER;
}

/** A registry event as delivered to a subscriber. */
export interface ReceivedRegistryEvent {
  subject: string;
  model: string;
  kind: RegistryEventKind;
  payload: Uint8Array;
}

/** An event bus on the registry's stream: what the registry publishes on and what its consumers follow. */
export function connectRegistryEventBus(options: Omit<ConnectEventBusOptions, 'stream'>): EventBus {
  return connectEventBus({ ...options, stream: REGISTRY_EVENT_STREAM });
}

/**
 * Delivers every registry event from now on (also across reconnects) to `handler`, in order, with its model and
 * kind. Resolves once the consumer is in place (see EventBus.subscribe).
 */
export function subscribeRegistryEvents(bus: EventBus, handler: (event: ReceivedRegistryEvent) => Promise<void>): Promise<void> {
  return bus.subscribe(async (event) => {
    const [, , , model = '', kind = ''] = event.subject.split('.');
    // Other kinds on the same stream (the audit log's audit-recorded) say nothing about the registry's state.
    if (!STATE_EVENT_KINDS.has(kind)) return;
    await handler({ ...event, model, kind: kind as RegistryEventKind });
  });
}
