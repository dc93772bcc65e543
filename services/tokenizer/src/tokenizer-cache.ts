import type { ListModelsResponse__Output } from '@maas/protos';
import { servedVersions } from '@maas/registry-client';
import type { Logger } from '@maas/shared';
import type { LoadedTokenizer } from './tokenizer-loader.js';
import type { TokenizerMetrics } from './tokenizer-metrics.js';

/** A (model, version) pair. */
export interface VersionKey {
  readonly model: string;
  readonly version: string;
}

export interface TokenizerCacheOptions {
  /** Loads one version's tokenizer (from the registry); a rejection is passed to every waiting caller. */
  load: (key: VersionKey) => Promise<LoadedTokenizer>;
  /** Cap on loaded tokenizers; only unpinned ones are unloaded to respect it. */
  maxLoaded: number;
  /** An unpinned tokenizer unused for this long is unloaded. */
  idleUnloadMs: number;
  logger: Logger;
  metrics: Pick<TokenizerMetrics, 'loadedTokenizers' | 'loadDuration'>;
  /** Clock, for tests of idle unloading. */
  now?: () => number;
  /**
   * How long a failed load is remembered (its error answered at once) before a request tries again; doubles
   * with each failure in a row, up to 60 s. Default 1 s.
   */
  failedRetryMs?: number;
}

const MAX_FAILED_RETRY_MS = 60_000;

interface Entry {
  readonly key: VersionKey;
  readonly promise: Promise<LoadedTokenizer>;
  loaded: boolean;
  lastUsedAt: number;
  /** Set when the load failed: until then its error is the answer, after it the next request loads again. */
  failedUntil?: number;
  /** Failed loads in a row (the backoff doubles with each). */
  failures: number;
}

// Model names are [a-z0-9-] and versions [A-Za-z0-9._-], so NUL cannot occur in either.
const keyString = (key: VersionKey) => `${key.model}\u0000${key.version}`;

/**
 * Tokenizers in memory, per (model, version). The first request for a version starts its load and every
 * concurrent request waits on that same load; a failed load is remembered for a backoff (1 s, doubling to 60 s
 * while it keeps failing), so requests and snapshots in between get its error at once instead of each
 * downloading the tokenizer again; the first request after the backoff retries.
 * Versions a rollout references are pinned: loaded ahead of traffic (pin()) and never unloaded. Others are
 * unloaded when idle for idleUnloadMs, or least recently used first when more than maxLoaded are loaded.
 */
export class TokenizerCache {
  /** Insertion order is recency order: a use moves the entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private pinned = new Set<string>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private warnedOverCap = false;

  constructor(private readonly options: TokenizerCacheOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.idleUnloadMs, 60_000));
    this.sweeper.unref();
  }

  /** The tokenizer of a version, loading it on first use. */
  get(key: VersionKey): Promise<LoadedTokenizer> {
    const id = keyString(key);
    let existing = this.entries.get(id);
    const failures = existing?.failures ?? 0;
    if (existing?.failedUntil !== undefined && this.now() >= existing.failedUntil) {
      this.entries.delete(id);
      existing = undefined;
    }
    if (existing) {
      existing.lastUsedAt = this.now();
      this.entries.delete(id);
      this.entries.set(id, existing);
      return existing.promise;
    }
    const startedAt = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
    const entry: Entry = {
      key,
      loaded: false,
      failures,
      lastUsedAt: this.now(),
      promise: this.options.load(key).then(
        (tokenizer) => {
          this.options.metrics.loadDuration.observe({ result: 'ok' }, seconds());
          entry.loaded = true;
          entry.failures = 0;
          this.options.logger.info({ model: key.model, version: key.version, kind: tokenizer.tokenizer.kind, seconds: seconds() }, 'tokenizer loaded');
          this.sweep();
          return tokenizer;
        },
        (error: unknown) => {
          this.options.metrics.loadDuration.observe({ result: 'error' }, seconds());
          const backoffMs = Math.min(MAX_FAILED_RETRY_MS, (this.options.failedRetryMs ?? 1_000) * 2 ** entry.failures);
          entry.failures += 1;
          entry.failedUntil = this.now() + backoffMs;
          this.options.logger.warn({ model: key.model, version: key.version, err: String(error), retryInMs: backoffMs }, 'tokenizer load failed');
          throw error;
        },
      ),
    };
    // Nobody may be waiting (a preload); the rejection is still delivered to whoever is.
    entry.promise.catch(() => undefined);
    this.entries.set(id, entry);
    return entry.promise;
  }

  /**
   * Makes `keys` the pinned set (the versions rollouts reference): loads those not loaded yet and resolves
   * when every load has settled; failures are logged, not thrown, so one bad package does not hold back the
   * others (the next snapshot retries it). Versions no longer pinned become ordinary LRU entries.
   */
  async pin(keys: readonly VersionKey[]): Promise<{ loaded: number; failed: number }> {
    this.pinned = new Set(keys.map(keyString));
    const results = await Promise.allSettled(keys.map((key) => this.get(key)));
    this.sweep();
    const failed = results.filter((result) => result.status === 'rejected').length;
    return { loaded: results.length - failed, failed };
  }

  /** Whether a version's tokenizer is loaded (not merely loading). */
  isLoaded(key: VersionKey): boolean {
    return this.entries.get(keyString(key))?.loaded ?? false;
  }

  /** Number of tokenizers loaded. */
  get loadedCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.loaded) count++;
    return count;
  }

  /** Unloads idle unpinned tokenizers, then least recently used unpinned ones down to maxLoaded. */
  sweep(): void {
    const now = this.now();
    const unload = (id: string, entry: Entry, reason: string) => {
      this.entries.delete(id);
      void entry.promise.then((tokenizer) => tokenizer.release?.());
      this.options.logger.info({ model: entry.key.model, version: entry.key.version, reason }, 'tokenizer unloaded');
    };
    for (const [id, entry] of this.entries) {
      if (entry.loaded && !this.pinned.has(id) && now - entry.lastUsedAt >= this.options.idleUnloadMs) unload(id, entry, 'idle');
    }
    let excess = this.loadedCount - this.options.maxLoaded;
    for (const [id, entry] of this.entries) {
      if (excess <= 0) break;
      if (entry.loaded && !this.pinned.has(id)) {
        unload(id, entry, 'over MAX_LOADED_TOKENIZERS');
        excess--;
      }
    }
    if (excess > 0 && !this.warnedOverCap) {
      this.options.logger.warn(
        { maxLoaded: this.options.maxLoaded, pinned: this.pinned.size },
        'rollouts reference more versions than MAX_LOADED_TOKENIZERS; keeping them all loaded',
      );
    }
    this.warnedOverCap = excess > 0;
    this.options.metrics.loadedTokenizers.set(this.loadedCount);
  }

  /** Stops the idle sweeper and forgets every tokenizer. */
  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values())
      void entry.promise.then(
        (tokenizer) => tokenizer.release?.(),
        () => undefined,
      );
    this.entries.clear();
    this.options.metrics.loadedTokenizers.set(0);
  }
}

/** The versions the mesh serves (rollouts' stable and canary, aliased ones; servedVersions): what the service keeps loaded. */
export function versionsInRollouts(snapshot: ListModelsResponse__Output): VersionKey[] {
  return servedVersions(snapshot);
}
