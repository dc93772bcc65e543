import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from './logger.js';

/** JetStream stream holding the registry's events, so a consumer that was away can catch up. */
export const REGISTRY_STREAM = 'MAAS_REGISTRY';
/** Every registry event's subject starts with this. */
export const REGISTRY_SUBJECT_PREFIX = 'maas.events.registry';

export type RegistryEventKind = 'version-registered' | 'rollout-changed';

/** `maas.events.registry.<model>.<kind>`; model names are restricted to [a-z0-9-], safe as a subject token. */
export function registrySubject(model: string, kind: RegistryEventKind): string {
  return `${REGISTRY_SUBJECT_PREFIX}.${model}.${kind}`;
}

/** A registry event as delivered to a subscriber. */
export interface ReceivedRegistryEvent {
  subject: string;
  model: string;
  kind: RegistryEventKind;
  payload: Uint8Array;
}

export interface EventBus {
  /** Whether NATS is connected right now. */
  readonly connected: boolean;
  /** Publishes to JetStream with the current trace context; false (logged) when NATS is down. Never throws. */
  publish(subject: string, payload: Uint8Array): Promise<boolean>;
  /** Delivers every registry event from now on (also across reconnects) to `handler`, in order. */
  subscribeRegistry(handler: (event: ReceivedRegistryEvent) => Promise<void>): void;
  /** Called with the new state whenever the connection comes or goes. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  /** Drains the connection (pending publishes go out) and stops retrying. */
  close(): Promise<void>;
}

export interface ConnectEventBusOptions {
  url: string;
  /** Connection name shown by the NATS server (the service name). */
  name: string;
  logger: Logger;
  /** How often to retry a first connection that failed. */
  retryMs?: number;
}

const tracer = trace.getTracer('maas-events');
const headerSetter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };
const headerGetter = {
  get: (carrier: MsgHdrs | undefined, key: string) => carrier?.get(key) || undefined,
  keys: (carrier: MsgHdrs | undefined) => (carrier ? carrier.keys() : []),
};

async function ensureRegistryStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(REGISTRY_STREAM);
  } catch {
    // Seven days of history is far more than any consumer needs: they also resync from the registry.
    await jsm.streams.add({ name: REGISTRY_STREAM, subjects: [`${REGISTRY_SUBJECT_PREFIX}.>`], max_age: 7 * 24 * 3600 * 1e9 }).catch((error: unknown) => {
      // Another service may have created it in between; anything else surfaces on publish/consume.
      if (!String(error).includes('already in use')) throw error;
    });
  }
}

/**
 * Connects to NATS in the background and never throws: with NATS unreachable the bus reports
 * `connected: false`, publishes return false, and it keeps retrying, so a laptop without NATS still runs.
 */
export function connectEventBus(options: ConnectEventBusOptions): EventBus {
  const retryMs = options.retryMs ?? 5_000;
  const log = options.logger.child({ component: 'events' });
  const handlers: Array<(event: ReceivedRegistryEvent) => Promise<void>> = [];
  const listeners: Array<(connected: boolean) => void> = [];
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let connected = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let warnedUnreachable = false;

  const setConnected = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    for (const listener of listeners) listener(value);
  };

  const consume = async (connection: NatsConnection, client: JetStreamClient, handler: (event: ReceivedRegistryEvent) => Promise<void>) => {
    try {
      // An ordered consumer from "new": history before this point is covered by the snapshot each consumer
      // reads from the registry; the consumer itself survives reconnects. No subject filter: the stream holds
      // registry events only, and filter_subjects needs nats-server 2.10 (Debian ships 2.9).
      const consumer = await client.consumers.get(REGISTRY_STREAM, { deliver_policy: DeliverPolicy.New });
      const messages = await consumer.consume();
      for await (const message of messages) {
        const [, , , model = '', kind = ''] = message.subject.split('.');
        const parent = propagation.extract(context.active(), message.headers, headerGetter);
        await tracer.startActiveSpan(`${message.subject} process`, { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': message.subject } }, parent, async (span) => {
          try {
            await handler({ subject: message.subject, model, kind: kind as RegistryEventKind, payload: message.data });
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
            log.warn({ err: error, subject: message.subject }, 'event handler failed; the next resync repairs it');
          } finally {
            span.end();
          }
        });
      }
    } catch (error) {
      if (!closed && !connection.isClosed()) log.warn({ err: error }, 'registry event consumer stopped; relying on resync');
    }
  };

  const attempt = async () => {
    if (closed) return;
    let connection: NatsConnection | undefined;
    try {
      connection = await connect({ servers: options.url, name: options.name, maxReconnectAttempts: -1, reconnectTimeWait: 1_000, timeout: 2_000 });
      await ensureRegistryStream(connection);
      // close() may have run while connecting; it could not see this connection yet.
      if (closed) {
        await connection.close();
        return;
      }
      nc = connection;
      js = jetstream(connection);
      warnedUnreachable = false;
      log.info({ url: options.url }, 'connected to NATS');
      setConnected(true);
      for (const handler of handlers) void consume(connection, js, handler);
      void (async () => {
        for await (const status of connection.status()) {
          if (status.type === 'disconnect') {
            log.warn({ url: options.url }, 'NATS disconnected; running on registry resync until it is back');
            setConnected(false);
          } else if (status.type === 'reconnect') {
            log.info({ url: options.url }, 'NATS reconnected');
            setConnected(true);
          }
        }
      })();
      void connection.closed().then(() => setConnected(false));
    } catch (error) {
      // A server that accepted the connection but failed the stream setup (e.g. no JetStream): drop this
      // connection, or every retry would leave one more open (each one reconnecting forever).
      if (connection && !connection.isClosed()) await connection.close().catch(() => undefined);
      if (closed) return;
      if (!warnedUnreachable) {
        log.warn({ url: options.url, err: String(error), retryMs }, 'NATS unreachable: running on registry resync alone; retrying in the background');
        warnedUnreachable = true;
      }
      retryTimer = setTimeout(() => void attempt(), retryMs);
      retryTimer.unref();
    }
  };
  void attempt();

  return {
    get connected() {
      return connected;
    },
    async publish(subject, payload) {
      if (!js || !connected) return false;
      const client = js;
      return tracer.startActiveSpan(`${subject} publish`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } }, async (span) => {
        const headers = natsHeaders();
        propagation.inject(context.active(), headers, headerSetter);
        try {
          await client.publish(subject, payload, { headers, timeout: 2_000 });
          return true;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          log.warn({ err: String(error), subject }, 'event not published; consumers will see the change on their next resync');
          return false;
        } finally {
          span.end();
        }
      });
    },
    subscribeRegistry(handler) {
      handlers.push(handler);
      if (nc && js) void consume(nc, js, handler);
    },
    onConnectionChange(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (nc && !nc.isClosed()) await nc.drain().catch(() => undefined);
      setConnected(false);
    },
  };
}
