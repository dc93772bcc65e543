/**
 * A client for a service that runs as several replicas, balancing calls (not connections) over them with our
 * own picker, one channel per replica.
 *
 * Why not grpc-js's `round_robin` alone: it balances well, but hides which replica answered what, so it cannot
 * skip a replica that has not loaded a version (or whose tokenizer failed) while others have, nor retry a call
 * on a *different* replica. Here each replica is a channel of its own, and the picker knows, per replica:
 * - ejected: a call failed there as if the replica were gone (UNAVAILABLE with its connection not READY); it
 *   gets no calls for a while (100 ms, doubling up to 1 s while it keeps failing), and none as soon as its
 *   channel is READY again (each channel keeps reconnecting, at most ~0.6 s apart: a restarted replica is back
 *   within a second of listening);
 * - not ready for a key (model + version): it answered that it has not loaded what the call needs
 *   (UNAVAILABLE while connected, FAILED_PRECONDITION, NOT_FOUND); it gets no calls for that key for a second,
 *   then one call finds out again;
 * - its channel state: TRANSIENT_FAILURE replicas are passed over while any other can take the call.
 * An idempotent call that failed that way is retried at once on another replica, within a retry budget (a
 * token bucket: each success adds 0.2 tokens, each retry spends one), so an outage cannot turn into a storm.
 *
 * Targets: `dns:///name:port` (every address the name resolves to, re-resolved every few seconds: a headless
 * Kubernetes Service lists each ready pod), `ipv4:127.0.0.1:1,127.0.0.1:2` or `a:1,b:2` (a fixed list, as
 * `npm start --replicas` makes), or one `host:port`.
 */
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { hasStatus } from './errors.js';
import type { Logger } from './logger.js';

/** A generated client's methods, looked up by name. */
type MethodsByName = Record<string, (this: grpc.Client, ...args: unknown[]) => unknown>;

type ClientConstructor<T extends grpc.Client> = (new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T) & {
  service: grpc.ServiceDefinition;
};

export interface ReplicaSetOptions {
  /** Where the replicas are (see the module comment for the forms). */
  target: string;
  /** Makes the channel of one replica address (host:port). */
  connect: (address: string) => grpc.Client;
  /** Methods safe to run twice (reads, pure functions): only these are retried on another replica. */
  idempotent: ReadonlySet<string>;
  /** The model + version a request needs loaded (so replicas that lack it are skipped); undefined when none. */
  keyOf?: (method: string, request: unknown) => string | undefined;
  logger: Logger;
  /** How often a `dns:///` target is resolved again (default 5 s). */
  resolveIntervalMs?: number;
  /** Retry tokens earned per successful call (default 0.2: retries stay below ~20 % of calls). */
  retryRatio?: number;
}

interface Replica {
  readonly address: string;
  readonly client: grpc.Client;
  ejectedUntil: number;
  ejectMs: number;
  /** Keys (model + version) this replica said it has not loaded, until when. */
  readonly notReady: Map<string, number>;
  /** Calls sent (for tests and the log). */
  calls: number;
}

const FIRST_EJECT_MS = 100;
const MAX_EJECT_MS = 1_000;
const NOT_READY_MS = 1_000;
const MAX_TOKENS = 100;
const NOT_LOADED_CODES = new Set<number>([grpc.status.FAILED_PRECONDITION, grpc.status.NOT_FOUND, grpc.status.UNAVAILABLE]);

/** The replica addresses a target names now (resolving a `dns:///` name); a fixed target resolves to itself. */
export async function resolveTarget(target: string): Promise<string[]> {
  const dns = /^dns:(?:\/\/[^/]*\/)?(.+):(\d+)$/.exec(target);
  if (dns) {
    const [, host, port] = dns;
    const found = await lookup(host!, { all: true });
    return [...new Set(found.map((entry) => (entry.family === 6 ? `[${entry.address}]:${port}` : `${entry.address}:${port}`)))].sort();
  }
  const list = target.replace(/^ipv[46]:/, '');
  return list
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
}

export class ReplicaSet {
  private readonly replicas = new Map<string, Replica>();
  private next = 0;
  private tokens = MAX_TOKENS / 10;
  private readonly resolver: NodeJS.Timeout | undefined;
  private closed = false;
  /** Retries spent (for tests and metrics). */
  retries = 0;

  constructor(private readonly options: ReplicaSetOptions) {
    if (options.target.startsWith('dns:')) {
      void this.resolve();
      this.resolver = setInterval(() => void this.resolve(), options.resolveIntervalMs ?? 5_000);
      this.resolver.unref();
    } else {
      for (const address of options.target
        .replace(/^ipv[46]:/, '')
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean))
        this.add(address);
    }
  }

  /** Addresses of the replicas now known, with the calls each was sent. */
  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.replicas.values()].map((replica) => [replica.address, replica.calls]));
  }

  /** A client of some replica (for streaming calls and anything the picker need not steer). */
  anyClient(): grpc.Client {
    return (this.pick(undefined, new Set()) ?? this.leastRecentlyEjected()).client;
  }

  /**
   * Runs one unary call on a picked replica; an idempotent call that fails there because the replica is gone or
   * lacks the call's key is sent once to each other replica in turn, while the retry budget lasts.
   */
  unary(method: string, request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<unknown>): void {
    const key = this.options.keyOf?.(method, request);
    const tried = new Set<string>();
    const attempt = () => {
      let replica: Replica | undefined;
      try {
        // A first attempt always goes somewhere: with every replica ejected or not ready, the one ejected
        // longest ago (a call may well succeed; failing it unsent certainly would not).
        replica = this.pick(key, tried) ?? this.leastRecentlyEjected();
      } catch (error) {
        return callback(error as grpc.ServiceError, undefined);
      }
      tried.add(replica.address);
      replica.calls += 1;
      const invoke = (replica.client as unknown as MethodsByName)[method]!;
      invoke.call(replica.client, request, metadata, options, (error: grpc.ServiceError | null, response: unknown) => {
        if (!error) {
          replica.ejectMs = FIRST_EJECT_MS;
          if (key) replica.notReady.delete(key);
          this.tokens = Math.min(MAX_TOKENS, this.tokens + (this.options.retryRatio ?? 0.2));
          return callback(null, response);
        }
        const gone = error.code === grpc.status.UNAVAILABLE && replica.client.getChannel().getConnectivityState(false) !== grpc.connectivityState.READY;
        if (gone) this.eject(replica, error);
        else if (key && NOT_LOADED_CODES.has(error.code)) replica.notReady.set(key, Date.now() + NOT_READY_MS);
        const retryable =
          this.options.idempotent.has(method) && (gone || error.code === grpc.status.UNAVAILABLE || (key !== undefined && NOT_LOADED_CODES.has(error.code)));
        const deadline = options.deadline instanceof Date ? options.deadline.getTime() : typeof options.deadline === 'number' ? options.deadline : Infinity;
        if (retryable && this.tokens >= 1 && Date.now() < deadline && this.pick(key, tried)) {
          this.tokens -= 1;
          this.retries += 1;
          return attempt();
        }
        callback(error, undefined);
      });
    };
    attempt();
  }

  /**
   * Asks every replica `question` (e.g. "is this version loaded?"): true when any says yes, false when none does
   * and some said no, undefined when none answered at all. A no is `false` or a refusal that speaks about `key`
   * (NOT_FOUND, FAILED_PRECONDITION); such replicas are marked not ready for `key`, so calls skip them until they
   * have it. Any other failure (a deadline, an unreachable replica) is no answer: it says nothing about the
   * version, and a loaded version must not be dropped because its probe was slow on a busy machine.
   */
  async askAll(key: string, question: (client: grpc.Client) => Promise<boolean>): Promise<boolean | undefined> {
    const replicas = [...this.replicas.values()];
    const answers = await Promise.all(
      replicas.map((replica) =>
        question(replica.client).catch((error: unknown) =>
          hasStatus(error, grpc.status.NOT_FOUND) || hasStatus(error, grpc.status.FAILED_PRECONDITION) ? false : undefined,
        ),
      ),
    );
    answers.forEach((yes, index) => {
      const replica = replicas[index]!;
      if (yes === true) replica.notReady.delete(key);
      else if (yes === false) replica.notReady.set(key, Date.now() + NOT_READY_MS);
    });
    if (answers.some((yes) => yes === true)) return true;
    return answers.some((yes) => yes === false) ? false : undefined;
  }

  close(): void {
    this.closed = true;
    if (this.resolver) clearInterval(this.resolver);
    for (const replica of this.replicas.values()) replica.client.close();
    this.replicas.clear();
  }

  private leastRecentlyEjected(): Replica {
    const replica = [...this.replicas.values()].sort((a, b) => a.ejectedUntil - b.ejectedUntil)[0];
    if (!replica)
      throw Object.assign(new Error(`no replica of ${this.options.target} is known yet`), {
        code: grpc.status.UNAVAILABLE,
        details: 'no replica known',
        metadata: new grpc.Metadata(),
      });
    return replica;
  }

  /**
   * Round-robin over the replicas not yet tried for this call, preferring those neither ejected, nor not ready
   * for `key`, nor in TRANSIENT_FAILURE; when none is left that way, any untried one not ejected (a fresh try
   * beats a sure failure); undefined when every replica was tried.
   */
  private pick(key: string | undefined, tried: ReadonlySet<string>): Replica | undefined {
    const now = Date.now();
    const untried = [...this.replicas.values()].filter((replica) => !tried.has(replica.address));
    if (untried.length === 0) return undefined;
    const good = untried.filter(
      (replica) =>
        replica.ejectedUntil <= now &&
        (key === undefined || (replica.notReady.get(key) ?? 0) <= now) &&
        replica.client.getChannel().getConnectivityState(false) !== grpc.connectivityState.TRANSIENT_FAILURE,
    );
    const pool = new Set(
      good.length > 0 ? good : untried.filter((replica) => replica.ejectedUntil <= now && (key === undefined || (replica.notReady.get(key) ?? 0) <= now)),
    );
    if (pool.size === 0) return undefined;
    // The next eligible replica after the last one picked, in the fixed order of all replicas: exact turns
    // while the set is steady, and a replica left out for a while does not shift the others' turns.
    const all = [...this.replicas.values()];
    for (let step = 1; step <= all.length; step++) {
      const candidate = all[(this.next + step) % all.length]!;
      if (!pool.has(candidate)) continue;
      this.next = (this.next + step) % all.length;
      return candidate;
    }
    return undefined;
  }

  private eject(replica: Replica, error: grpc.ServiceError): void {
    const wasIn = replica.ejectedUntil <= Date.now();
    replica.ejectedUntil = Date.now() + replica.ejectMs;
    if (wasIn)
      this.options.logger.warn(
        { replica: replica.address, forMs: replica.ejectMs, err: error.details },
        'replica unreachable: sending its calls to the others',
      );
    replica.ejectMs = Math.min(MAX_EJECT_MS, replica.ejectMs * 2);
  }

  private add(address: string): void {
    if (this.replicas.has(address)) return;
    const replica: Replica = { address, client: this.options.connect(address), ejectedUntil: 0, ejectMs: FIRST_EJECT_MS, notReady: new Map(), calls: 0 };
    this.replicas.set(address, replica);
    this.watch(replica);
  }

  /**
   * Keeps the replica's channel connecting (an idle one would wait for a call) and lifts its ejection the
   * moment it is READY: a replica that restarted takes calls again within a reconnect (< 1 s), not after a
   * failed probe call.
   */
  private watch(replica: Replica): void {
    const channel = replica.client.getChannel();
    const loop = () => {
      if (this.closed || this.replicas.get(replica.address) !== replica) return;
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY && replica.ejectedUntil > Date.now()) {
        replica.ejectedUntil = 0;
        replica.ejectMs = FIRST_EJECT_MS;
        this.options.logger.info({ replica: replica.address }, 'replica reachable again');
      }
      if (state === grpc.connectivityState.SHUTDOWN) return;
      channel.watchConnectivityState(state, Infinity, loop);
    };
    loop();
  }

  private async resolve(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await resolveTarget(this.options.target);
    } catch (error) {
      this.options.logger.warn({ target: this.options.target, err: String(error) }, 'could not resolve the replicas; keeping the ones known');
      return;
    }
    if (this.closed || addresses.length === 0) return;
    for (const address of addresses) this.add(address);
    for (const [address, replica] of this.replicas) {
      if (addresses.includes(address)) continue;
      this.replicas.delete(address);
      // Calls in flight there finish; the channel closes once they have.
      replica.client.close();
    }
  }
}

/**
 * A client of `Client`'s service that looks like one generated client (same unary methods, callback style)
 * but sends each call through a ReplicaSet. Streaming methods go to one picked replica, without retries.
 */
export function createBalancedClient<T extends grpc.Client>(
  Client: ClientConstructor<T>,
  options: Omit<ReplicaSetOptions, 'connect'> & { connect: (address: string) => T },
): T & { readonly replicaSet: ReplicaSet } {
  const set = new ReplicaSet(options);
  const balanced: Record<string, unknown> = {
    replicaSet: set,
    close: () => set.close(),
    getChannel: () => set.anyClient().getChannel(),
    waitForReady: (deadline: grpc.Deadline, callback: (error?: Error) => void) => set.anyClient().waitForReady(deadline, callback),
  };
  for (const [name, method] of Object.entries(Client.service)) {
    if (method.requestStream || method.responseStream) {
      balanced[name] = (...args: unknown[]) => {
        const client = set.anyClient();
        return (client as unknown as MethodsByName)[name]!.call(client, ...args);
      };
      continue;
    }
    balanced[name] = (request: unknown, ...rest: unknown[]) => {
      const callback = rest.pop() as grpc.requestCallback<unknown>;
      let metadata = new grpc.Metadata();
      let callOptions: grpc.CallOptions = {};
      for (const arg of rest) {
        if (arg instanceof grpc.Metadata) metadata = arg;
        else if (arg && typeof arg === 'object') callOptions = arg as grpc.CallOptions;
      }
      const call = new EventEmitter() as EventEmitter & { cancel(): void; getPeer(): string };
      let cancelled = false;
      call.cancel = () => {
        cancelled = true;
      };
      call.getPeer = () => options.target;
      set.unary(name, request, metadata, callOptions, (error, response) => {
        if (cancelled)
          return callback(
            Object.assign(new Error('Cancelled on client'), {
              code: grpc.status.CANCELLED,
              details: 'Cancelled on client',
              metadata: new grpc.Metadata(),
            }) as grpc.ServiceError,
            undefined,
          );
        callback(error, response);
      });
      return call;
    };
  }
  return balanced as unknown as T & { readonly replicaSet: ReplicaSet };
}
