/**
 * Which model versions are loaded, reconciled from registry snapshots (watchRegistry's onSnapshot):
 * - every version a rollout references (stable and canary) is loaded; loads run in the background so a slow
 *   download never holds up the reconcile loop;
 * - a version that failed to load is logged, not ready, and retried on the next snapshot (every resync) that
 *   comes at least MODEL_RETRY_BACKOFF_MS after the failure;
 * - a version nothing references any more is taken out of routing at once (new requests for it get
 *   FAILED_PRECONDITION) and unloaded after its queued and running requests finish;
 * - a registered version no rollout references is not loaded: requests for it get FAILED_PRECONDITION
 *   ("not loaded; not referenced by a rollout"); an unknown model or version is NOT_FOUND.
 */
import type { ListModelsResponse__Output, ModelRegistryClient } from '@maas/protos';
import { failedPrecondition, type Logger, notFound, unavailable } from '@maas/shared';
import { performance } from 'node:perf_hooks';
import { type LoadedVersion, type LoaderConfig, loadModelVersion } from './model-loader.js';
import type { InferenceMetrics } from './metrics.js';

interface ModelState {
  versions: Set<string>;
  stable: string;
  canary: string;
}

type Entry =
  | { state: 'loading'; done: Promise<void> }
  | { state: 'ready'; loaded: LoadedVersion }
  | { state: 'failed'; error: string; at: number };

export interface ModelManagerOptions {
  registry: ModelRegistryClient;
  config: LoaderConfig;
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

  /** Applies the registry's current state (idempotent): starts loads, unloads what is no longer referenced. */
  applySnapshot(snapshot: ListModelsResponse__Output): void {
    if (this.closed) return;
    this.models = new Map(
      snapshot.models.map((model) => [
        model.name,
        {
          versions: new Set(model.versions.map((version) => version.version)),
          stable: model.rollout?.stable_version ?? '',
          canary: model.rollout?.canary_version ?? '',
        },
      ]),
    );
    const wanted = new Set<string>();
    for (const [name, state] of this.models) {
      for (const version of [state.stable, state.canary]) if (version && state.versions.has(version)) wanted.add(keyOf(name, version));
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
      if (wanted.has(key)) continue;
      if (entry.state === 'ready') this.unload(key, entry.loaded, 'no rollout references it');
      else if (entry.state === 'failed') this.entries.delete(key);
      // 'loading': the load checks `wanted` when it finishes.
    }
    this.firstSettled ??= Promise.allSettled(loads).then(() => this.markFirstSettled());
  }

  /** The loaded version serving (model, version); empty version = the rollout's stable one. */
  resolve(model: string, version: string): LoadedVersion {
    const state = this.models.get(model);
    if (!state) throw notFound(`model '${model}' not found`);
    const name = version || state.stable;
    if (!name) throw failedPrecondition(`model '${model}' has no rollout, so none of its versions is loaded; set a rollout first`);
    if (!state.versions.has(name)) throw notFound(`model '${model}' has no version '${name}'`);
    const key = keyOf(model, name);
    const entry = this.entries.get(key);
    if (!this.wanted.has(key) || !entry) throw failedPrecondition(`model '${model}' version '${name}' is not loaded; not referenced by a rollout`);
    if (entry.state === 'loading') throw unavailable(`model '${model}' version '${name}' is still loading`);
    if (entry.state === 'failed') throw unavailable(`model '${model}' version '${name}' failed to load (${entry.error}); it is retried on the next registry resync`);
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
    for (const [key, entry] of [...this.entries]) if (entry.state === 'ready') this.unload(key, entry.loaded, 'shutting down');
    const loading = [...this.entries.values()].flatMap((entry) => (entry.state === 'loading' ? [entry.done] : []));
    await Promise.allSettled(loading);
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
        void entry.loaded.unload().catch(() => undefined);
      },
    }).then(
      (loaded) => {
        const seconds = (performance.now() - startedAt) / 1000;
        metrics.modelLoad.observe(labels, seconds);
        metrics.modelLoads.inc({ ...labels, result: 'ok' });
        if (this.closed || !this.wanted.has(key)) {
          this.unload(key, loaded, 'no rollout references it any more');
          return;
        }
        this.entries.set(key, { state: 'ready', loaded });
        metrics.modelReady.set(labels, 1);
        this.log.info({ ...labels, provider: loaded.provider, seconds: Number(seconds.toFixed(3)), batchable: loaded.signature.batchable }, 'model version ready');
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        metrics.modelLoads.inc({ ...labels, result: 'error' });
        this.log.error({ ...labels, err: message }, 'model version failed to load; retrying on the next resync');
        if (this.closed || !this.wanted.has(key)) this.entries.delete(key);
        else this.entries.set(key, { state: 'failed', error: message, at: Date.now() });
      },
    );
    this.entries.set(key, { state: 'loading', done });
    return done;
  }

  private unload(key: string, loaded: LoadedVersion, reason: string): void {
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
