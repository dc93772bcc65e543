import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
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
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.enable_retries': 1,
    ...options.channelOptions,
  });
}

export interface UnaryCallOptions {
  /** Absolute deadline (Date) or milliseconds from now. */
  deadline: Date | number;
  metadata?: grpc.Metadata;
}

/** Promise form of a generated unary client method: `unaryCall((r, md, o, cb) => client.Encode(r, md, o, cb), req, { deadline })`. */
export function unaryCall<Req, Res>(
  invoke: (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  request: Req,
  options: UnaryCallOptions,
): Promise<Res> {
  const deadline = typeof options.deadline === 'number' ? new Date(Date.now() + options.deadline) : options.deadline;
  return new Promise<Res>((resolve, reject) => {
    invoke(request, options.metadata ?? new grpc.Metadata(), { deadline }, (error, response) => {
      if (error) reject(error);
      else resolve(response as Res);
    });
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
    const check = (client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: grpc.requestCallback<{ status: string | number }>) => void>).Check!;
    check.call(client, { service: options.service ?? '' }, { deadline: Date.now() + (options.timeoutMs ?? 1_000) }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(typeof response?.status === 'number' ? ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][response.status] ?? 'UNKNOWN' : String(response?.status));
    });
  });
}
