import { messageCodec, type ListModelsResponse__Output, type ModelRegistryClient, type RolloutChanged, type RolloutChanged__Output, type VersionRegistered, type VersionRegistered__Output } from '@maas/protos';
import type { CommonConfig } from './config.js';
import { connectEventBus, type EventBus, type RegistryEventKind } from './events.js';
import { unaryCall } from './grpc-client.js';
import type { Logger } from './logger.js';

export const versionRegisteredCodec = messageCodec<VersionRegistered, VersionRegistered__Output>('maas.v1.VersionRegistered');
export const rolloutChangedCodec = messageCodec<RolloutChanged, RolloutChanged__Output>('maas.v1.RolloutChanged');

/** The registry revision an event carries (every event kind has it as field `revision`). */
export function eventRevision(kind: RegistryEventKind, payload: Uint8Array): number {
  return kind === 'version-registered' ? versionRegisteredCodec.decode(payload).revision : rolloutChangedCodec.decode(payload).revision;
}

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

  const schedule = () => {
    if (stopped) return;
    const interval = options.bus.connected && !failing ? options.resyncIntervalMs : options.resyncIntervalNoNatsMs;
    timer = setTimeout(() => void resyncNow().finally(schedule), interval);
    timer.unref();
  };

  options.bus.subscribeRegistry(async (event) => {
    if (eventRevision(event.kind, event.payload) > revision) await resyncNow();
  });
  options.bus.onConnectionChange((connected) => {
    if (connected) void resyncNow(); // events may have been missed while away
    else log.info({ everyMs: options.resyncIntervalNoNatsMs }, 'no NATS: following the registry by resync alone');
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
  /** Where NATS is and how often to resync: every consumer's common config. */
  config: Pick<CommonConfig, 'natsUrl' | 'resyncIntervalMs' | 'resyncIntervalNoNatsMs'>;
  /** Name of this service's NATS connection. */
  connectionName: string;
}

/** A registry watch with the NATS connection it owns. */
export interface RegistryFollower extends RegistryWatch {
  readonly bus: EventBus;
  /** Stops the watch (when `stop` has not already) and closes the NATS connection. */
  close(): Promise<void>;
}

/** What every registry consumer runs: a NATS connection for registry events and `watchRegistry` on it, as its config says. */
export function followRegistry(options: FollowRegistryOptions): RegistryFollower {
  const { config, logger } = options;
  const bus = connectEventBus({ url: config.natsUrl, name: options.connectionName, logger });
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
    async close() {
      watch.stop();
      await bus.close();
    },
  };
}
