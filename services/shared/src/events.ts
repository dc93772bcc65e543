import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from './logger.js';
import { redactUrlCredentials } from './redact.js';

/**
 * A JetStream stream the bus publishes into and consumes from: events are kept there so that a consumer
 * that was away can catch up. Its owner (e.g. the registry client library) names it and its subjects; the
 * bus creates it when it is missing.
 */
export interface EventStream {
  name: string;
  /** Subjects the stream captures (e.g. `maas.events.registry.>`). */
  subjects: string[];
  /** How long the stream keeps an event (default: seven days). */
  maxAgeMs?: number;
}

/** An event as delivered to a subscriber. */
export interface ReceivedEvent {
  subject: string;
  payload: Uint8Array;
}

export interface EventBus {
  /** Whether NATS is connected right now. */
  readonly connected: boolean;
  /** Publishes to JetStream with the current trace context; false (logged) when NATS is down. Never throws. */
  publish(subject: string, payload: Uint8Array): Promise<boolean>;
  /**
   * Delivers every event of the stream from now on (also across reconnects) to `handler`, in order. Resolves
   * once the consumer is in place on the first connection: an event published after that reaches `handler`.
   */
  subscribe(handler: (event: ReceivedEvent) => Promise<void>): Promise<void>;
  /** Called with the new state whenever the connection comes or goes. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  /** Stops retrying, drains the connection (pending publishes go out) and resolves once it is closed. */
  close(): Promise<void>;
}

export interface ConnectEventBusOptions {
  url: string;
  /** NATS user and password, when the server asks for them (kept out of the URL, so out of every log line). */
  user?: string;
  password?: string;
  /** Connection name shown by the NATS server (the service name). */
  name: string;
  logger: Logger;
  /** The stream this bus publishes into and consumes from. */
  stream: EventStream;
  /** How often to retry a first connection that failed. */
  retryMs?: number;
}

const tracer = trace.getTracer('maas-events');
const headerSetter = { set: (carrier: MsgHdrs, key: string, value: string) => carrier.set(key, value) };
const headerGetter = {
  get: (carrier: MsgHdrs | undefined, key: string) => carrier?.get(key) || undefined,
  keys: (carrier: MsgHdrs | undefined) => (carrier ? carrier.keys() : []),
};

/**
 * The destination in span names: the stream's subject prefix (`maas.events.registry` for
 * `maas.events.registry.>`). The messaging conventions want a low-cardinality name; the full subject (it names
 * the model) is the `messaging.destination.name` attribute.
 */
export function spanDestination(stream: EventStream): string {
  return stream.subjects[0]?.replace(/\.[>*]$/, '') || stream.name;
}

/** OpenTelemetry messaging attributes of a publish or process span. */
function messagingAttributes(operation: 'publish' | 'process', subject: string, payload: Uint8Array) {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': subject,
    'messaging.message.body.size': payload.byteLength,
  };
}

/** Default retention: seven days of history is far more than any consumer needs, as they also resync. */
const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1_000;

async function ensureStream(nc: NatsConnection, stream: EventStream): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(stream.name);
  } catch {
    const maxAgeNanos = (stream.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS) * 1e6;
    await jsm.streams.add({ name: stream.name, subjects: stream.subjects, max_age: maxAgeNanos }).catch((error: unknown) => {
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
  const handlers: Array<{ handle: (event: ReceivedEvent) => Promise<void>; consuming: () => void }> = [];
  const listeners: Array<(connected: boolean) => void> = [];
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let connected = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let warnedUnreachable = false;
  const destination = spanDestination(options.stream);

  const setConnected = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    for (const listener of listeners) listener(value);
  };

  const consume = async (connection: NatsConnection, client: JetStreamClient, handler: (typeof handlers)[number]) => {
    try {
      // An ordered consumer from "new": history before this point is covered by the snapshot each consumer
      // reads from its source of truth; the consumer itself survives reconnects. No subject filter: a stream
      // holds one owner's events only, and filter_subjects needs nats-server 2.10 (Debian ships 2.9).
      const consumer = await client.consumers.get(options.stream.name, { deliver_policy: DeliverPolicy.New });
      const messages = await consumer.consume();
      handler.consuming();
      for await (const message of messages) {
        const parent = propagation.extract(context.active(), message.headers, headerGetter);
        await tracer.startActiveSpan(
          `process ${destination}`,
          { kind: SpanKind.CONSUMER, attributes: messagingAttributes('process', message.subject, message.data) },
          parent,
          async (span) => {
            try {
              await handler.handle({ subject: message.subject, payload: message.data });
            } catch (error) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
              span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
              log.warn({ err: error, subject: message.subject }, 'event handler failed; the next resync repairs it');
            } finally {
              span.end();
            }
          },
        );
      }
    } catch (error) {
      if (!closed && !connection.isClosed()) log.warn({ err: error }, 'event consumer stopped; relying on resync');
    }
  };

  // The URL as logs may show it: a user:password in it never reaches a log line.
  const safeUrl = redactUrlCredentials(options.url);
  const attempt = async () => {
    if (closed) return;
    let connection: NatsConnection | undefined;
    try {
      // Pings every 5 s, two unanswered = disconnected: a server that vanished without closing its socket (a
      // partition, a frozen host) is noticed in ~10 s rather than nats.js's default 4 minutes, so consumers
      // switch to the short resync interval soon.
      connection = await connect({
        servers: options.url,
        ...(options.user ? { user: options.user, pass: options.password ?? '' } : {}),
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        timeout: 2_000,
        pingInterval: 5_000,
        maxPingOut: 2,
      });
      await ensureStream(connection, options.stream);
      // close() may have run while connecting; it could not see this connection yet.
      if (closed) {
        await connection.close();
        return;
      }
      nc = connection;
      js = jetstream(connection);
      warnedUnreachable = false;
      log.info({ url: safeUrl }, 'connected to NATS');
      setConnected(true);
      for (const handler of handlers) void consume(connection, js, handler);
      void (async () => {
        for await (const status of connection.status()) {
          if (status.type === 'disconnect' || status.type === 'staleConnection') {
            log.warn({ url: safeUrl }, 'NATS disconnected; running on resync until it is back');
            setConnected(false);
          } else if (status.type === 'reconnect') {
            log.info({ url: safeUrl }, 'NATS reconnected');
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
        log.warn({ url: safeUrl, err: redactUrlCredentials(String(error)), retryMs }, 'NATS unreachable: running on resync alone; retrying in the background');
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
      return tracer.startActiveSpan(
        `publish ${destination}`,
        { kind: SpanKind.PRODUCER, attributes: messagingAttributes('publish', subject, payload) },
        async (span) => {
          const headers = natsHeaders();
          propagation.inject(context.active(), headers, headerSetter);
          try {
            await client.publish(subject, payload, { headers, timeout: 2_000 });
            return true;
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
            span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
            log.warn({ err: String(error), subject }, 'event not published; consumers will see the change on their next resync');
            return false;
          } finally {
            span.end();
          }
        },
      );
    },
    subscribe(handle) {
      return new Promise<void>((consuming) => {
        const handler = { handle, consuming };
        handlers.push(handler);
        if (nc && js) void consume(nc, js, handler);
      });
    },
    onConnectionChange(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (nc && !nc.isClosed()) {
        // drain() flushes pending publishes and closes; closed() is when the connection's work has ended. A
        // drain that fails (the server went away meanwhile) still must end in a closed connection.
        const connection = nc;
        await connection.drain().catch(() => connection.close());
        await connection.closed();
      }
      setConnected(false);
    },
  };
}
