import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { RECOVERY_CHANNEL_OPTIONS } from './channel-options.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './grpc-server.js';

type ClientConstructor<T extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T;

export interface ClientOptions {
  /** TLS (channelCredentials in tls-credentials.ts); default plaintext. */
  credentials?: grpc.ChannelCredentials;
  /** More channel options (meshClientOptions sets the TLS server name). */
  channelOptions?: grpc.ChannelOptions;
}

/**
 * A client for one of our services: TLS as `options.credentials` say, keepalive so dead peers are noticed, and
 * round-robin over every address the name resolves to — with a headless Kubernetes Service that spreads calls
 * over all pods instead of pinning one HTTP/2 connection to one pod (servers cap connection age, so clients
 * re-resolve and find new pods).
 */
export function createClient<T extends grpc.Client>(Client: ClientConstructor<T>, address: string, options: ClientOptions = {}): T {
  return new Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    // Kept on: transparent retries resend a call that a server refused before processing it (a GOAWAY at
    // max connection age), which a service-to-service hop must survive.
    'grpc.enable_retries': 1,
    // Channelz keeps per-call bookkeeping that nothing here reads.
    'grpc.enable_channelz': 0,
    // Answers of batch-shaped calls are large (256 texts of int64 ids: 200 KB); with HTTP/2's default 64 KB
    // window the server stops after each 64 KB until this side has read it and sent a window update (measured
    // on loopback, 200 KB answers: p50 0.52-0.64 ms -> 0.42-0.51 ms with an 8 MiB window).
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
    // Keepalive and capped reconnect backoff: a restarted or vanished peer is noticed within a second or so.
    ...RECOVERY_CHANNEL_OPTIONS,
    ...options.channelOptions,
  });
}

export interface UnaryCallOptions {
  /** Absolute deadline (Date) or milliseconds from now. */
  deadline: Date | number;
  metadata?: grpc.Metadata;
  /**
   * The server call this one serves: its cancellation (the caller went away, or its deadline passed) cancels
   * this call, and this call's deadline is never later than its (grpc-js propagation, default flags).
   */
  parent?: grpc.CallOptions['parent'];
  /** Cancels the call when aborted (e.g. once every caller of a merged batch has gone away). */
  signal?: AbortSignal;
}

/** Promise form of a generated unary client method: `unaryCall((r, md, o, cb) => client.Encode(r, md, o, cb), req, { deadline })`. */
export function unaryCall<Req, Res>(
  invoke: (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  request: Req,
  options: UnaryCallOptions,
): Promise<Res> {
  const deadline = typeof options.deadline === 'number' ? new Date(Date.now() + options.deadline) : options.deadline;
  const { signal } = options;
  return new Promise<Res>((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const call = invoke(
      request,
      options.metadata ?? new grpc.Metadata(),
      options.parent ? { deadline, parent: options.parent } : { deadline },
      (error, response) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response as Res);
      },
    );
    if (signal) {
      if (signal.aborted) {
        call.cancel();
        return;
      }
      onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/**
 * The deadline the caller of `call` set, to pass on to the next hop; when none was set, `fallbackMs` from now,
 * or undefined without a fallback.
 */
export function deadlineFromCall(call: { getDeadline(): grpc.Deadline }, fallbackMs: number): Date;
export function deadlineFromCall(call: { getDeadline(): grpc.Deadline }, fallbackMs?: number): Date | undefined;
export function deadlineFromCall(call: { getDeadline(): grpc.Deadline }, fallbackMs?: number): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  if (typeof deadline === 'number' && Number.isFinite(deadline)) return new Date(deadline);
  return fallbackMs === undefined ? undefined : new Date(Date.now() + fallbackMs);
}

/** Whether a deadline has already passed (no point starting work for it). */
export function deadlinePassed(deadline: Date): boolean {
  return deadline.getTime() <= Date.now();
}

const HealthClient = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');

/** grpc.health.v1 status of `service` ('' = the whole server) at `address`; rejects when unreachable. */
export function checkHealth(address: string, options: { service?: string; timeoutMs?: number } & ClientOptions = {}): Promise<string> {
  const client = new HealthClient(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  return new Promise<string>((resolve, reject) => {
    const check = (client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<{ status: string | number }>) => void>)
      .Check!;
    check.call(client, { service: options.service ?? '' }, { deadline: Date.now() + (options.timeoutMs ?? 1_000) }, (error, response) => {
      client.close();
      if (error) reject(error);
      else
        resolve(
          typeof response?.status === 'number'
            ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][response.status] ?? 'UNKNOWN')
            : String(response?.status),
        );
    });
  });
}
