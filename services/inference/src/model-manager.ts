/**
 * Which model versions are loaded, reconciled from registry snapshots (watchRegistry's onSnapshot):
 * - every version a rollout or an alias references (stable, canary, aliased: servedVersionsOf) is loaded; loads run in the background so a slow
 *   download never holds up the reconcile loop;
 * - a version that failed to load is logged, not ready, and retried on the next snapshot (every resync) that
 *   comes at least MODEL_RETRY_BACKOFF_MS after the failure;
 * - a loaded version no rollout references any more drains: it keeps serving (gateways still route to it
 *   while the model's new stable version is not ready) until the model's stable version is ready, then for
 *   UNLOAD_DRAIN_MS more (gateways learn of the switch by event or resync, in-flight calls finish), and is
 *   then unloaded after its queued and running requests finish. A rollout that references it again while it
 *   drains keeps it, without a reload;
 * - a registered version no rollout references and not loaded is not loaded: requests for it get
 *   FAILED_PRECONDITION ("not loaded; not referenced by a rollout"); an unknown model or version is NOT_FOUND.
 */
import type { ListModelsResponse__Output, ModelRegistryClient } from '@maas/protos';
import { Status } from '@maas/protos';
import { servedVersionsOf } from '@maas/registry-client';
import { dataLoss, failedPrecondition, hasStatus, quote, type Logger, notFound, unavailable } from '@maas/shared';
import { performance } from 'node:perf_hooks';
import { type LoadedVersion, type LoaderConfig, loadModelVersion } from './model-loader.js';
import type { InferenceConfig } from './config.js';
import type { InferenceMetrics } from './inference-metrics.js';

interface ModelState {
  versions: Set<string>;
  stable: string;
  canary: string;
  /** Versions to keep loaded (servedVersionsOf). */
  served: string[];
}

/** A loaded version no rollout references, kept while traffic may still come to it. */
interface Drain {
  /** Unloads the version UNLOAD_DRAIN_MS after its model's stable version is ready; unset until then. */
  timer: NodeJS.Timeout | undefined;
}

type Entry =
  | { state: 'loading'; done: Promise<void> }
  | { state: 'ready'; loaded: LoadedVersion; drain?: Drain }
  | { state: 'failed'; error: string; at: number; damaged?: boolean };
type ReadyEntry = Extract<Entry, { state: 'ready' }>;

export interface ModelManagerOptions {
  registry: ModelRegistryClient;
  config: LoaderConfig & Pick<InferenceConfig, 'unloadDrainMs' | 'shutdownDeadlineMs'>;
  logger: Logger;
  metrics: InferenceMetrics;
}

const keyOf = (model: string, version: string) => `${model}\u0000${version}`;

export class ModelManager {
  private models = new Map<string, ModelState>();
  private wanted = new Set<string>();
  private readonly entries = new Map<string, Entry>();
  private readonly unloading = new Set<Promise<void>>();
  private closed = false;
  private firstSettled: Promise<void> | undefined;
  private markFirstSettled!: () => void;
  /** Resolves once the versions of the first snapshot have each loaded or failed. */
  readonly firstSnapshotSettled = new Promise<void>((resolve) => (this.markFirstSettled = resolve));
  private readonly log: Logger;

  constructor(private readonly options: ModelManagerOptions) {
    this.log = options.logger.child({ component: 'model-manager' });
  }

  /** Applies the registry's current state (idempotent): starts loads, drains what is no longer referenced. */
  applySnapshot(snapshot: ListModelsResponse__Output): void {
    if (this.closed) return;
    this.models = new Map(
      snapshot.models.map((model) => [
        model.name,
        {
          versions: new Set(model.versions.map((version) => version.version)),
          stable: model.rollout?.stable_version ?? '',
          canary: model.rollout?.canary_version ?? '',
          served: servedVersionsOf(model),
        },
      ]),
    );
    const wanted = new Set<string>();
    for (const [name, state] of this.models) {
      for (const version of state.served) wanted.add(keyOf(name, version));
    }
    this.wanted = wanted;

    const loads: Promise<void>[] = [];
    for (const key of wanted) {
      const entry = this.entries.get(key);
      if (!entry) loads.push(this.startLoad(key));
      else if (entry.state === 'failed' && Date.now() - entry.at >= this.options.config.modelRetryBackoffMs) loads.push(this.startLoad(key));
      else if (entry.state === 'loading') loads.push(entry.done);
    }
    for (const [key, entry] of [...this.entries]) {
      if (entry.state === 'ready' && wanted.has(key)) this.stopDraining(entry, 'a rollout references it again');
      else if (entry.state === 'ready') this.startDraining(entry);
      else if (entry.state === 'failed' && !wanted.has(key)) this.entries.delete(key);
      // 'loading': the load checks `wanted` when it finishes.
    }
    this.settleDrains();
    this.firstSettled ??= Promise.allSettled(loads).then(() => this.markFirstSettled());
  }

  /** The loaded version serving (model, version); empty version = the rollout's stable one. */
  resolve(model: string, version: string): LoadedVersion {
    const state = this.models.get(model);
    if (!state) throw notFound(`model ${quote(model)} not found`);
    const name = version || state.stable;
    if (!name) throw failedPrecondition(`model ${quote(model)} has no rollout, so none of its versions is loaded; set a rollout first`);
    if (!state.versions.has(name)) throw notFound(`model ${quote(model)} has no version ${quote(name)}`);
    const key = keyOf(model, name);
    const entry = this.entries.get(key);
    // A draining version (loaded, no longer referenced) still serves: gateways may route to it a while longer.
    if (!entry || (!this.wanted.has(key) && entry.state !== 'ready'))
      throw failedPrecondition(`model ${quote(model)} version ${quote(name)} is not loaded; not referenced by a rollout`);
    if (entry.state === 'loading') throw unavailable(`model ${quote(model)} version ${quote(name)} is still loading`);
    // Damaged bytes in the registry are not an outage: say so (DATA_LOSS), so nobody waits for it to pass.
    if (entry.state === 'failed' && entry.damaged)
      throw dataLoss(
        `model ${quote(model)} version ${quote(name)} cannot load: its artifact is damaged in the registry (${entry.error}); register the package again to repair it`,
      );
    if (entry.state === 'failed')
      throw unavailable(`model ${quote(model)} version ${quote(name)} failed to load (${entry.error}); it is retried on the next registry resync`);
    return entry.loaded;
  }

  /** Whether the model is known at all (for metric labels). */
  knows(model: string): boolean {
    return this.models.has(model);
  }

  /** Versions of `model` loaded and ready, sorted. */
  readyVersions(model: string): string[] {
    const versions: string[] = [];
    for (const entry of this.entries.values()) if (entry.state === 'ready' && entry.loaded.model === model) versions.push(entry.loaded.version);
    return versions.sort();
  }

  /** Unloads everything (waits for queued and running requests). */
  async close(): Promise<void> {
    this.closed = true;
    this.wanted = new Set();
    for (const [key, entry] of [...this.entries]) if (entry.state === 'ready') this.unload(key, entry, 'shutting down');
    const loading = [...this.entries.values()].flatMap((entry) => (entry.state === 'loading' ? [entry.done] : []));
    // A load in progress may be a download with a deadline of minutes: the stop waits for it no longer than
    // in-flight calls get (SHUTDOWN_DEADLINE_MS); the process exit ends whatever is left of it.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.config.shutdownDeadlineMs)));
    await Promise.race([Promise.allSettled(loading), deadline]);
    clearTimeout(timer);
    await Promise.allSettled([...this.unloading]);
  }

  private startLoad(key: string): Promise<void> {
    const [model, version] = key.split('\u0000') as [string, string];
    const { metrics } = this.options;
    const labels = { model, version };
    const startedAt = performance.now();
    this.log.info(labels, 'loading model version');
    const done = loadModelVersion({
      model,
      version,
      registry: this.options.registry,
      config: this.options.config,
      logger: this.options.logger,
      observer: metrics.observerFor(model, version),
      onBroken: (reason) => {
        const entry = this.entries.get(key);
        if (entry?.state !== 'ready') return;
        this.entries.set(key, { state: 'failed', error: `session worker stopped: ${reason}`, at: 0 });
        metrics.modelReady.set(labels, 0);
        this.stopDraining(entry);
        void entry.loaded.unload().catch(() => undefined);
      },
    }).then(
      (loaded) => {
        const seconds = (performance.now() - startedAt) / 1000;
        metrics.modelLoad.observe(labels, seconds);
        metrics.modelLoads.inc({ ...labels, result: 'ok' });
        // Never ready while referenced, so no gateway routed to it: nothing to drain.
        if (this.closed || !this.wanted.has(key)) {
          this.unload(key, { state: 'ready', loaded }, 'no rollout references it any more');
          return;
        }
        this.entries.set(key, { state: 'ready', loaded });
        metrics.modelReady.set(labels, 1);
        const { sessionWorkers, intraOpThreads } = this.options.config;
        this.log.info(
          { ...labels, provider: loaded.provider, sessionWorkers, intraOpThreads, seconds: Number(seconds.toFixed(3)), batchable: loaded.signature.batchable },
          'model version ready',
        );
        // A new stable version being ready starts the drain of the versions it replaces.
        this.settleDrains();
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        metrics.modelLoads.inc({ ...labels, result: 'error' });
        this.log.error({ ...labels, err: message }, 'model version failed to load; retrying on the next resync');
        if (this.closed || !this.wanted.has(key)) this.entries.delete(key);
        else this.entries.set(key, { state: 'failed', error: message, at: Date.now(), damaged: hasStatus(error, Status.DATA_LOSS) });
      },
    );
    this.entries.set(key, { state: 'loading', done });
    return done;
  }

  /** Marks a loaded version no rollout references as draining (it keeps serving; settleDrains times it). */
  private startDraining(entry: ReadyEntry): void {
    if (entry.drain) return;
    entry.drain = { timer: undefined };
    const labels = { model: entry.loaded.model, version: entry.loaded.version };
    this.options.metrics.modelDraining.set(labels, 1);
    this.log.info(labels, 'no rollout references this version any more: it keeps serving until the new stable version is ready and drained');
  }

  private stopDraining(entry: ReadyEntry, reason?: string): void {
    if (!entry.drain) return;
    clearTimeout(entry.drain.timer);
    entry.drain = undefined;
    const labels = { model: entry.loaded.model, version: entry.loaded.version };
    this.options.metrics.modelDraining.set(labels, 0);
    if (reason) this.log.info({ ...labels, reason }, 'version no longer draining');
  }

  /**
   * Starts the drain timer of each draining version whose model no longer needs it as a fallback: its stable
   * version is ready (or it has none, or the registry no longer lists the model or the version).
   */
  private settleDrains(): void {
    for (const [key, entry] of this.entries) {
      if (entry.state !== 'ready' || !entry.drain || entry.drain.timer) continue;
      const { model, version } = entry.loaded;
      const state = this.models.get(model);
      const stableKey = state?.stable ? keyOf(model, state.stable) : '';
      const stillNeeded = !!state && state.versions.has(version) && !!stableKey && this.entries.get(stableKey)?.state !== 'ready';
      if (stillNeeded) continue;
      const drain = entry.drain;
      drain.timer = setTimeout(() => {
        if (this.entries.get(key) === entry && entry.drain === drain) this.unload(key, entry, 'drained: no rollout references it');
      }, this.options.config.unloadDrainMs);
      drain.timer.unref();
      this.log.info(
        { model, version, drainMs: this.options.config.unloadDrainMs },
        'not needed as a fallback any more: unloading this version after the drain time',
      );
    }
  }

  private unload(key: string, entry: ReadyEntry, reason: string): void {
    const { loaded } = entry;
    this.stopDraining(entry);
    if (this.entries.get(key)?.state === 'ready' || this.entries.get(key)?.state === 'loading') this.entries.delete(key);
    this.options.metrics.modelReady.set({ model: loaded.model, version: loaded.version }, 0);
    this.log.info({ model: loaded.model, version: loaded.version, reason }, 'unloading model version');
    const done = loaded
      .unload()
      .catch((error: unknown) => this.log.warn({ model: loaded.model, version: loaded.version, err: String(error) }, 'unload failed'))
      .finally(() => this.unloading.delete(done));
    this.unloading.add(done);
  }
}
