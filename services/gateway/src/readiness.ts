import type { Logger } from '@maas/shared';
import type { VersionRef } from './router.js';

/** Asks inference whether a version is loaded and ready; resolves false (or rejects) when it is not. */
export type ReadinessProbe = (ref: VersionRef, deadline: Date) => Promise<boolean>;

export interface ReadinessTrackerOptions {
  probe: ReadinessProbe;
  /** How often versions that are not ready are asked about again. */
  pollIntervalMs: number;
  /** Deadline of one probe. */
  probeTimeoutMs: number;
  logger: Logger;
}

interface Tracked {
  ref: VersionRef;
  ready: boolean;
  /** The probe in flight, if any: joined rather than doubled. */
  pending: Promise<void> | undefined;
  /** Bumped by every probe start and by markNotReady, so an older probe's answer cannot overwrite a newer fact. */
  generation: number;
}

const keyOf = (model: string, version: string) => `${model}\u0000${version}`;

/**
 * Readiness of every version a rollout references, as inference reports it (OIP ModelReady). The router reads
 * it synchronously on every request, so traffic never goes to a version that is not loaded. Each snapshot
 * re-asks about every referenced version (so a version that went away is noticed at the next resync), and a
 * timer keeps asking about those not ready until they are.
 */
export class ReadinessTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: ReadinessTrackerOptions) {
    this.timer = setInterval(() => this.pollNotReady(), options.pollIntervalMs);
    this.timer.unref();
  }

  /** Replaces the set of tracked versions (from a registry snapshot) and asks about each of them now. */
  track(refs: readonly VersionRef[]): Promise<void> {
    const wanted = new Set(refs.map((ref) => keyOf(ref.model, ref.version)));
    for (const key of this.tracked.keys()) if (!wanted.has(key)) this.tracked.delete(key);
    const probes: Array<Promise<void>> = [];
    for (const ref of refs) {
      const key = keyOf(ref.model, ref.version);
      let entry = this.tracked.get(key);
      if (!entry) {
        entry = { ref: { model: ref.model, version: ref.version }, ready: false, pending: undefined, generation: 0 };
        this.tracked.set(key, entry);
      }
      probes.push(this.probe(entry));
    }
    return Promise.all(probes).then(() => undefined);
  }

  isReady(model: string, version: string): boolean {
    return this.tracked.get(keyOf(model, version))?.ready ?? false;
  }

  /** Whether `ref` is tracked at all (a rollout references it). */
  isTracked(model: string, version: string): boolean {
    return this.tracked.has(keyOf(model, version));
  }

  /** A call to the version just failed as if it were not loaded: stop routing to it until a probe says ready. */
  markNotReady(ref: VersionRef, reason: string): void {
    const entry = this.tracked.get(keyOf(ref.model, ref.version));
    if (!entry) return;
    entry.generation += 1;
    entry.pending = undefined;
    this.set(entry, false, reason);
    // Ask again right away: a transient failure then costs one round trip, not a poll interval.
    void this.probe(entry);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private pollNotReady(): void {
    for (const entry of this.tracked.values()) if (!entry.ready) void this.probe(entry);
  }

  private probe(entry: Tracked): Promise<void> {
    if (this.stopped) return Promise.resolve();
    entry.pending ??= this.runProbe(entry);
    return entry.pending;
  }

  private async runProbe(entry: Tracked): Promise<void> {
    const generation = ++entry.generation;
    let ready = false;
    let reason = 'inference reports it not ready';
    try {
      ready = await this.options.probe(entry.ref, new Date(Date.now() + this.options.probeTimeoutMs));
    } catch (error) {
      reason = `readiness probe failed: ${(error as Error).message}`;
    }
    // A newer probe, markNotReady or untracking happened meanwhile: this answer is stale.
    if (entry.generation !== generation || this.tracked.get(keyOf(entry.ref.model, entry.ref.version)) !== entry) return;
    entry.pending = undefined;
    this.set(entry, ready, reason);
  }

  private set(entry: Tracked, ready: boolean, reason: string): void {
    if (entry.ready === ready) return;
    entry.ready = ready;
    if (ready) this.options.logger.info({ model: entry.ref.model, version: entry.ref.version }, 'version ready: routing to it');
    else this.options.logger.warn({ model: entry.ref.model, version: entry.ref.version, reason }, 'version not ready: not routing to it');
  }
}
