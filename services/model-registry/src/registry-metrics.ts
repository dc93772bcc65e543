import { Counter, Gauge, type Registry } from 'prom-client';
import type { RegistryStore } from './registry-store.js';
import type { DamagedBlobs } from './storage-check.js';

/** The registry's domain metrics (the gRPC request metrics come from @maas/shared). */
export interface RegistryMetrics {
  /** maas_registry_registrations_total: versions registered. */
  readonly registrations: Counter;
  /** maas_registry_rollout_changes_total: rollouts changed (no-op SetRollout calls are not counted). */
  readonly rolloutChanges: Counter;
  /** maas_registry_alias_changes_total: aliases set, moved or removed (no-op SetAlias calls are not counted). */
  readonly aliasChanges: Counter;
  /** maas_registry_artifact_received_bytes_total: package bytes uploaded (including rejected uploads). */
  readonly bytesReceived: Counter;
  /** maas_registry_artifact_sent_bytes_total: artifact bytes downloaded. */
  readonly bytesSent: Counter;
  /** maas_registry_events_published_total{kind, result}: events published to NATS (result=ok), or not (result=error). */
  readonly eventsPublished: Counter<'kind' | 'result'>;
  /** maas_registry_blob_damage_found_total{where}: damaged blobs found, by a download (where=download) or a storage check (where=check). */
  readonly damageFound: Counter<'where'>;
}

export function createRegistryMetrics(options: { registry: Registry; store: RegistryStore; damaged: DamagedBlobs }): RegistryMetrics {
  const registers = [options.registry];
  // Read from the database at scrape time, so the values are right after a restart too. A scrape runs every
  // gauge's collect() in the same tick, so one query, kept until the tick ends, serves both blob gauges.
  let blobs: { bytes: number; count: number } | undefined;
  const storedBlobs = () => {
    if (!blobs) {
      blobs = options.store.storedBlobs();
      queueMicrotask(() => (blobs = undefined));
    }
    return blobs;
  };
  new Gauge({
    name: 'maas_registry_blob_stored_bytes',
    help: 'Bytes of artifact blobs stored (each distinct content once, however many versions share it)',
    registers,
    collect() {
      this.set(storedBlobs().bytes);
    },
  });
  new Gauge({
    name: 'maas_registry_blobs',
    help: 'Distinct artifact blobs stored',
    registers,
    collect() {
      this.set(storedBlobs().count);
    },
  });
  new Gauge({
    name: 'maas_registry_damaged_blobs',
    help: 'Artifact blobs known damaged (found by a download or a storage check, not repaired since); a version using one cannot load',
    registers,
    collect() {
      this.set(options.damaged.size);
    },
  });
  new Gauge({
    name: 'maas_registry_revision',
    help: 'Current registry revision (bumped by every change)',
    registers,
    collect() {
      this.set(options.store.revision);
    },
  });
  return {
    registrations: new Counter({ name: 'maas_registry_registrations_total', help: 'Model versions registered', registers }),
    rolloutChanges: new Counter({ name: 'maas_registry_rollout_changes_total', help: 'Rollout changes committed', registers }),
    aliasChanges: new Counter({ name: 'maas_registry_alias_changes_total', help: 'Alias changes committed (set, moved or removed)', registers }),
    bytesReceived: new Counter({ name: 'maas_registry_artifact_received_bytes_total', help: 'Package file bytes received by RegisterVersion', registers }),
    bytesSent: new Counter({ name: 'maas_registry_artifact_sent_bytes_total', help: 'Artifact bytes sent by DownloadArtifact', registers }),
    eventsPublished: new Counter({
      name: 'maas_registry_events_published_total',
      help: 'Registry events handed to NATS JetStream (result=ok) or dropped because NATS was unavailable (result=error)',
      labelNames: ['kind', 'result'],
      registers,
    }),
    damageFound: new Counter({
      name: 'maas_registry_blob_damage_found_total',
      help: 'Damaged artifact blobs found, by a download or a storage check',
      labelNames: ['where'],
      registers,
    }),
  };
}
