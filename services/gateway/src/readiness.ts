import type { Logger } from '@maas/shared';
import type { VersionRef } from './router.js';

/**
 * Asks inference whether a version is loaded and ready: true or false when the mesh answered, undefined (or a
 * rejection) when it gave no answer (timed out, unreachable), which leaves the version's readiness as it was.
 */
export type ReadinessProbe = (ref: VersionRef, deadline: Date) => Promise<boolean | undefined>;

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

const refMap = (refs: readonly VersionRef[]) => new Map(refs.map((ref) => [keyOf(ref.model, ref.version), { model: ref.model, version: ref.version }]));

/** Told when a tracked version turns ready or not ready. */
export type ReadinessListener = (ref: VersionRef, ready: boolean) => void;

/**
 * Readiness of every version a rollout references, and of the draining versions the routing state retains, as
 * inference reports it (OIP ModelReady). The router reads it synchronously on every request, so traffic never
 * goes to a version that is not loaded. Each snapshot re-asks about every tracked version (so a version that
 * went away is noticed at the next resync), and a timer keeps asking about those not ready until they are.
 */
export class ReadinessTracker {
  private readonly tracked = new Map<string, Tracked>();
  /** Keys of the versions the last snapshot references (set by track). */
  private referenced = new Set<string>();
  /** Versions tracked beyond the referenced ones (set by retain): those still draining traffic. */
  private retained = new Map<string, VersionRef>();
  private readonly listeners = new Set<ReadinessListener>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: ReadinessTrackerOptions) {
    this.timer = setInterval(() => this.pollNotReady(), options.pollIntervalMs);
    this.timer.unref();
  }

  /**
   * Replaces the set of referenced versions (from a registry snapshot) and, when given, the retained ones (see
   * retain), then asks about every tracked version now. Versions neither referenced nor retained are forgotten.
   * Both sets change in one step, so a version that moves from one to the other keeps its readiness.
   */
  track(refs: readonly VersionRef[], retained?: readonly VersionRef[]): Promise<void> {
    this.referenced = new Set(refs.map((ref) => keyOf(ref.model, ref.version)));
    if (retained) this.retained = refMap(retained);
    this.forgetUnwanted();
    const probes = [...refs, ...this.retained.values()].map((ref) => this.probe(this.entryFor(ref)));
    return Promise.all(probes).then(() => undefined);
  }

  /**
   * Replaces the set of versions tracked beyond the referenced ones (the draining versions the router may
   * still send traffic to). Versions already tracked keep their readiness; new ones are asked about now.
   */
  retain(refs: readonly VersionRef[]): void {
    this.retained = refMap(refs);
    this.forgetUnwanted();
    for (const ref of this.retained.values()) {
      if (!this.tracked.has(keyOf(ref.model, ref.version))) void this.probe(this.entryFor(ref));
    }
  }

  /** Calls `listener` whenever a tracked version turns ready or not ready; returns the unsubscribe function. */
  onChange(listener: ReadinessListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isReady(model: string, version: string): boolean {
    return this.tracked.get(keyOf(model, version))?.ready ?? false;
  }

  /** Whether `ref` is tracked at all (a rollout references it, or it is retained). */
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

  private entryFor(ref: VersionRef): Tracked {
    const key = keyOf(ref.model, ref.version);
    let entry = this.tracked.get(key);
    if (!entry) {
      entry = { ref: { model: ref.model, version: ref.version }, ready: false, pending: undefined, generation: 0 };
      this.tracked.set(key, entry);
    }
    return entry;
  }

  private forgetUnwanted(): void {
    for (const key of this.tracked.keys()) if (!this.referenced.has(key) && !this.retained.has(key)) this.tracked.delete(key);
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
    let ready: boolean | undefined;
    let failure = 'no replica answered in time';
    try {
      ready = await this.options.probe(entry.ref, new Date(Date.now() + this.options.probeTimeoutMs));
    } catch (error) {
      failure = (error as Error).message;
    }
    // A newer probe, markNotReady or untracking happened meanwhile: this answer is stale.
    if (entry.generation !== generation || this.tracked.get(keyOf(entry.ref.model, entry.ref.version)) !== entry) return;
    entry.pending = undefined;
    if (ready === undefined) {
      // No answer says nothing about the version: a ready one keeps its traffic (calls that fail as not loaded
      // still stop it at once, see markNotReady), one not ready yet stays so and is asked again at the next poll.
      this.options.logger.warn(
        { model: entry.ref.model, version: entry.ref.version, ready: entry.ready, failure },
        'readiness probe got no answer; readiness unchanged',
      );
      return;
    }
    this.set(entry, ready, 'inference reports it not ready');
  }

  private set(entry: Tracked, ready: boolean, reason: string): void {
    if (entry.ready === ready) return;
    entry.ready = ready;
    if (ready) this.options.logger.info({ model: entry.ref.model, version: entry.ref.version }, 'version ready: routing to it');
    else this.options.logger.warn({ model: entry.ref.model, version: entry.ref.version, reason }, 'version not ready: not routing to it');
    for (const listener of this.listeners) {
      try {
        listener(entry.ref, ready);
      } catch (error) {
        // A listener's bug must not leave the tracker (and so routing) half-updated.
        this.options.logger.error({ err: error, model: entry.ref.model, version: entry.ref.version }, 'readiness listener failed');
      }
    }
  }
}
