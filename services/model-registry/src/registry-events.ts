/**
 * Publishes registry changes as protobuf events on NATS JetStream (stream MAAS_REGISTRY, created by the shared
 * EventBus on connect). Events are the fast path only: a change is committed before its event goes out, and a
 * failed publish is logged and counted, never turned into a failed write (consumers resync from ListModels).
 */
import type { Alias__Output, ModelVersion__Output, Rollout__Output } from '@maas/protos';
import {
  aliasChangedCodec,
  artifactDamagedCodec,
  registrySubject,
  rolloutChangedCodec,
  versionRegisteredCodec,
  type RegistryEventKind,
} from '@maas/registry-client';
import type { EventBus, Logger } from '@maas/shared';
import type { RegistryMetrics } from './registry-metrics.js';

export interface RegistryEvents {
  versionRegistered(version: ModelVersion__Output): Promise<void>;
  rolloutChanged(rollout: Rollout__Output): Promise<void>;
  aliasChanged(change: { model: string; alias: Alias__Output; previousVersion: string }): Promise<void>;
  /** A stored file of a version was found damaged (informational: the revision is the current one, not bumped). */
  artifactDamaged(damage: { revision: number; model: string; version: string; path: string; sha256: string; problem: string }): Promise<void>;
}

export function createRegistryEvents(deps: { bus: EventBus; logger: Logger; metrics: RegistryMetrics }): RegistryEvents {
  const publish = async (model: string, kind: RegistryEventKind, revision: number, payload: Uint8Array) => {
    const subject = registrySubject(model, kind);
    let published = false;
    try {
      published = await deps.bus.publish(subject, payload);
    } catch (error) {
      // The bus promises not to throw; a write must not fail even if it does.
      deps.logger.warn({ err: error, subject }, 'event publish threw');
    }
    deps.metrics.eventsPublished.inc({ kind, result: published ? 'ok' : 'error' });
    if (!published)
      deps.logger.warn({ subject, revision }, 'registry event not published (NATS unavailable); consumers pick the change up on their next resync');
  };
  return {
    versionRegistered: (version) =>
      publish(
        version.model,
        'version-registered',
        version.revision,
        versionRegisteredCodec.encode({ revision: version.revision, model: version.model, version: version.version, occurred_at: version.created_at }),
      ),
    rolloutChanged: (rollout) =>
      publish(
        rollout.model,
        'rollout-changed',
        rollout.revision,
        rolloutChangedCodec.encode({ revision: rollout.revision, model: rollout.model, rollout, occurred_at: rollout.updated_at }),
      ),
    aliasChanged: ({ model, alias, previousVersion }) =>
      publish(
        model,
        'alias-changed',
        alias.revision,
        aliasChangedCodec.encode({
          revision: alias.revision,
          model,
          alias: alias.name,
          version: alias.version,
          previous_version: previousVersion,
          occurred_at: alias.updated_at,
        }),
      ),
    artifactDamaged: (damage) =>
      publish(damage.model, 'artifact-damaged', damage.revision, artifactDamagedCodec.encode({ ...damage, occurred_at: new Date().toISOString() })),
  };
}
