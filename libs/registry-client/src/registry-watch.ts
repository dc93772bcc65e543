import type { ListModelsResponse__Output, ModelRegistryClient } from '@maas/protos';
import { unaryCall, type EventBus, type Logger, type ServerConfig } from '@maas/shared';
import type { RegistryConsumerConfig } from './registry-consumer-config.js';
import { connectRegistryEventBus, eventRevision, subscribeRegistryEvents } from './registry-events.js';

/** Resync period while the registry cannot be read. */
const FAILING_RETRY_MS = 500;

export interface WatchRegistryOptions {
  bus: EventBus;
  registry: ModelRegistryClient;
  logger: Logger;
  /** Resync period while NATS delivers events. */
  resyncIntervalMs: number;
  /** Resync period while NATS is down: then the timer is the only way changes arrive. */
  resyncIntervalNoNatsMs: number;
  /** Deadline of one ListModels call. */
  requestTimeoutMs?: number;
  /** Applies the registry's current state; must be idempotent (it runs on every resync). */
  onSnapshot: (snapshot: ListModelsResponse__Output) => Promise<void>;
}

export interface RegistryWatch {
  /** Resolves once a first snapshot has been applied. */
  readonly ready: Promise<void>;
  /** The revision of the last snapshot applied (-1 before the first). */
  readonly revision: number;
  /** Reads and applies a snapshot now (joins one already running, then runs once more). */
  resyncNow(): Promise<void>;
  stop(): void;
}

/**
 * The reconcile loop of every registry consumer, as a Kubernetes controller does it: events are the fast
 * path (an event newer than the applied revision triggers a resync), and a timer resyncs anyway, so a lost
 * event or a NATS outage only slows propagation. The registry says what is; events only say when to look.
 */
export function watchRegistry(options: WatchRegistryOptions): RegistryWatch {
  const log = options.logger.child({ component: 'registry-watch' });
  let revision = -1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let failing = false;

  const resyncOnce = async () => {
    const snapshot = await unaryCall<object, ListModelsResponse__Output>(
      (request, metadata, callOptions, callback) => options.registry.ListModels(request, metadata, callOptions, callback),
      {},
      { deadline: options.requestTimeoutMs ?? 5_000 },
    );
    await options.onSnapshot(snapshot);
    revision = Math.max(revision, snapshot.revision);
    if (failing) log.info({ revision }, 'registry reachable again');
    failing = false;
    markReady();
  };

  const resyncNow = (): Promise<void> => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        try {
          await resyncOnce();
        } catch (error) {
          if (!failing) log.warn({ err: String(error) }, 'registry resync failed; retrying on the next tick');
          failing = true;
        }
      } while (again && !stopped);
    })().finally(() => (inFlight = undefined));
    return inFlight;
  };

  // Whether `timer` is set and has not fired: only then may it be replaced (else a second chain would start).
  let waiting = false;
  const schedule = () => {
    if (stopped) return;
    // A registry that cannot be read is asked again soon (its return is then seen within half a second); with
    // NATS down the timer is the only news; otherwise events carry changes and the timer is the safety net.
    const interval = failing
      ? Math.min(FAILING_RETRY_MS, options.resyncIntervalNoNatsMs)
      : options.bus.connected
        ? options.resyncIntervalMs
        : options.resyncIntervalNoNatsMs;
    waiting = true;
    timer = setTimeout(() => {
      waiting = false;
      void resyncNow().finally(schedule);
    }, interval);
    timer.unref();
  };
  /**
   * NATS just dropped: the long timer set while events flowed would leave a change made now unseen for up to
   * its whole period. Restart the wait at the no-NATS interval at once.
   */
  const shortenWait = () => {
    if (!waiting || stopped) return;
    clearTimeout(timer);
    waiting = false;
    schedule();
  };

  void subscribeRegistryEvents(options.bus, async (event) => {
    if (eventRevision(event.kind, event.payload) > revision) await resyncNow();
  });
  options.bus.onConnectionChange((connected) => {
    if (connected)
      void resyncNow(); // events may have been missed while away
    else {
      log.info({ everyMs: options.resyncIntervalNoNatsMs }, 'no NATS: following the registry by resync alone');
      shortenWait();
    }
  });
  void resyncNow().finally(schedule);

  return {
    ready,
    get revision() {
      return revision;
    },
    resyncNow,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export interface FollowRegistryOptions extends Pick<WatchRegistryOptions, 'registry' | 'logger' | 'requestTimeoutMs' | 'onSnapshot'> {
  /** Where NATS is (a server setting) and how often to resync (the registry-consumer settings). */
  config: Pick<ServerConfig, 'natsUrl'> &
    Partial<Pick<ServerConfig, 'natsUser' | 'natsPassword'>> &
    Pick<RegistryConsumerConfig, 'resyncIntervalMs' | 'resyncIntervalNoNatsMs'>;
  /** Name of this service's NATS connection. */
  connectionName: string;
}

/** A registry watch with the NATS connection it owns: `stop` ends the watch, the owner closes `bus` after it. */
export interface RegistryFollower extends RegistryWatch {
  readonly bus: EventBus;
}

/** What every registry consumer runs: a NATS connection for registry events and `watchRegistry` on it, as its config says. */
export function followRegistry(options: FollowRegistryOptions): RegistryFollower {
  const { config, logger } = options;
  const bus = connectRegistryEventBus({ url: config.natsUrl, user: config.natsUser, password: config.natsPassword, name: options.connectionName, logger });
  const watch = watchRegistry({
    bus,
    registry: options.registry,
    logger,
    resyncIntervalMs: config.resyncIntervalMs,
    resyncIntervalNoNatsMs: config.resyncIntervalNoNatsMs,
    requestTimeoutMs: options.requestTimeoutMs,
    onSnapshot: options.onSnapshot,
  });
  return {
    bus,
    ready: watch.ready,
    get revision() {
      return watch.revision;
    },
    resyncNow: () => watch.resyncNow(),
    stop: () => watch.stop(),
  };
}
