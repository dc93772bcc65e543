/** What a value that is not there yet looks like to `eventually`. */
type NotYet = false | null | undefined;

export interface EventuallyOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between two checks (default 25 ms). */
  intervalMs?: number;
}

/**
 * Checks `check` until it returns something other than false/null/undefined (or stops throwing), and returns
 * that. After `timeoutMs` it throws, naming `what` and the last error or value: a test waits on a condition,
 * never on a fixed sleep, and a condition that never comes fails the test with a reason.
 */
export async function eventually<T>(what: string, check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Exclude<T, NotYet>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const end = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await check();
      if (value !== false && value !== null && value !== undefined) return value as Exclude<T, NotYet>;
      last = `last: ${String(value)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= end) throw new Error(`${what}: not so after ${timeoutMs} ms (${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
