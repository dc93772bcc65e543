import * as grpc from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './grpc-server.js';

type ClientConstructor<T extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T;

/** A client for one of our services: plaintext inside the mesh, keepalive so dead peers are noticed. */
export function createClient<T extends grpc.Client>(Client: ClientConstructor<T>, address: string): T {
  return new Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.enable_retries': 1,
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

/** The deadline the caller of `call` set, to pass on to the next hop; `fallbackMs` from now when none was set. */
export function deadlineFromCall(call: { getDeadline(): grpc.Deadline }, fallbackMs: number): Date {
  const deadline = call.getDeadline();
  const fallback = Date.now() + fallbackMs;
  if (deadline instanceof Date) return deadline;
  if (typeof deadline === 'number' && Number.isFinite(deadline)) return new Date(deadline);
  return new Date(fallback);
}

/** Whether a deadline has already passed (no point starting work for it). */
export function deadlinePassed(deadline: Date): boolean {
  return deadline.getTime() <= Date.now();
}
