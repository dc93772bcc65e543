/**
 * Per-caller limits at the edge, so one noisy caller cannot starve the others: a token bucket (average rate
 * and burst) and a cap on calls in flight, each per caller id. A refusal says when to retry.
 */

export interface FairUseSettings {
  /** Average calls per second per caller; 0: no rate limit. */
  rateLimitRps: number;
  /** Bucket size: calls allowed at once above the average. */
  rateLimitBurst: number;
  /** Calls in flight per caller; 0: no cap. */
  maxConcurrentPerCaller: number;
}

export type Admission = { admitted: true; release: () => void } | { admitted: false; limit: 'rate' | 'concurrency'; retryAfterMs: number; message: string };

interface CallerState {
  tokens: number;
  refilledAt: number;
  inFlight: number;
}

/** Callers idle this long with a full bucket are forgotten (memory stays bounded by the active callers). */
const FORGET_AFTER_MS = 60_000;

export class FairUseLimiter {
  private readonly callers = new Map<string, CallerState>();
  private lastSweep = Date.now();

  constructor(
    readonly settings: FairUseSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Admits one call of `callerId`, or says which limit refused it and when to retry. */
  admit(callerId: string): Admission {
    const { rateLimitRps, rateLimitBurst, maxConcurrentPerCaller } = this.settings;
    const now = this.now();
    this.sweep(now);
    let state = this.callers.get(callerId);
    if (!state) {
      state = { tokens: rateLimitBurst, refilledAt: now, inFlight: 0 };
      this.callers.set(callerId, state);
    }
    if (rateLimitRps > 0) {
      state.tokens = Math.min(rateLimitBurst, state.tokens + ((now - state.refilledAt) / 1000) * rateLimitRps);
      state.refilledAt = now;
      if (state.tokens < 1) {
        const retryAfterMs = Math.ceil(((1 - state.tokens) / rateLimitRps) * 1000);
        return {
          admitted: false,
          limit: 'rate',
          retryAfterMs,
          message: `rate limit of ${rateLimitRps} calls/s (burst ${rateLimitBurst}) exceeded; retry after ${retryAfterMs} ms`,
        };
      }
    }
    if (maxConcurrentPerCaller > 0 && state.inFlight >= maxConcurrentPerCaller) {
      return {
        admitted: false,
        limit: 'concurrency',
        retryAfterMs: 50,
        message: `${maxConcurrentPerCaller} calls already in flight for this caller; retry after one finishes (~50 ms)`,
      };
    }
    if (rateLimitRps > 0) state.tokens -= 1;
    state.inFlight += 1;
    let released = false;
    const held = state;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        held.inFlight -= 1;
      },
    };
  }

  /** Calls in flight per caller (for tests and metrics). */
  inFlight(callerId: string): number {
    return this.callers.get(callerId)?.inFlight ?? 0;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const [id, state] of this.callers) {
      if (state.inFlight === 0 && now - state.refilledAt > FORGET_AFTER_MS) this.callers.delete(id);
    }
  }
}
