import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { packageDefinition } from '@maas/protos';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from './logger.js';
import { receiveLimitInterceptor, serverReceiveLimit, withReceiveLimits, type ReceiveLimits } from './receive-limits.js';
import { tolerantDefinition, undecodableRequestInterceptor } from './undecodable-requests.js';

/** One service to serve: its fully qualified name (as health checks ask for it), definition and handlers. */
export interface GrpcServiceBinding {
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  services: GrpcServiceBinding[];
  logger: Logger;
  /** Largest message accepted; artifacts stream in chunks far below it. */
  maxReceiveMessageBytes?: number;
  /** Per-method receive limits (receive-limits.ts); when set they replace `maxReceiveMessageBytes`. */
  receiveLimits?: ReceiveLimits;
  /** TLS credentials and the interceptors that check callers (tls-credentials.ts, peer-identity.ts); default: plaintext, no checks. */
  security?: { credentials: grpc.ServerCredentials; interceptors?: grpc.ServerInterceptor[]; plaintextHealthPort?: number };
}

export interface RunningGrpcServer {
  readonly port: number;
  /** The bound plaintext health-only port (the real one when 0 was asked for); -1 when there is none. */
  readonly healthPort: number;
  readonly server: grpc.Server;
  /** Flips grpc.health.v1 for the whole server and every service. */
  setServing(serving: boolean): void;
  /**
   * Clean stop: NOT_SERVING, then `graceMs` for load balancers to notice, then no new calls while in-flight
   * ones finish, and after `deadlineMs` whatever is left is cancelled.
   */
  stop(options: { graceMs: number; deadlineMs: number }): Promise<void>;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export async function startGrpcServer(options: StartGrpcServerOptions): Promise<RunningGrpcServer> {
  const maxMessage = options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const limits = options.receiveLimits;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits ? serverReceiveLimit(limits) : maxMessage,
    'grpc.max_send_message_length': maxMessage,
    'grpc.keepalive_permit_without_calls': 1,
    // Clients re-resolve when a connection ages out, so pods added by a scale-up get traffic.
    'grpc.max_connection_age_ms': 5 * 60_000,
    'grpc.max_connection_age_grace_ms': 30_000,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // Channelz keeps per-call bookkeeping (call counters, timestamps, a trace ring) that nothing here reads.
    'grpc.enable_channelz': 0,
    // The receive-limit interceptor first (it needs the base call's decoder), then the undecodable-request one,
    // then the security checks (peer identity, bearer tokens).
    interceptors: [...(limits ? [receiveLimitInterceptor(limits)] : []), undecodableRequestInterceptor(), ...(options.security?.interceptors ?? [])],
  });
  for (const service of options.services)
    server.addService(tolerantDefinition(limits ? withReceiveLimits(service.definition, limits) : service.definition), service.implementation);

  const names = ['', ...options.services.map((service) => service.name)];
  const health = new HealthImplementation(Object.fromEntries(names.map((name) => [name, 'NOT_SERVING' as const])));
  health.addToServer(server);
  // Reflection names only what this server serves, not every contract in the package (no internal services on the gateway).
  new ReflectionService(packageDefinition(), { services: names.slice(1) }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, options.security?.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const askedHealthPort = options.security?.plaintextHealthPort ?? -1;
  let healthPort = -1;
  if (askedHealthPort >= 0) {
    // For kubelet's gRPC probes, which cannot do TLS: the interceptors let only grpc.health.v1 through here.
    try {
      healthPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${options.host}:${askedHealthPort}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
    } catch (error) {
      // The service port is bound already: release it, or a failed start leaves a listening socket behind.
      server.forceShutdown();
      throw error;
    }
  }
  options.logger.info({ port, services: names.slice(1) }, 'gRPC server listening');

  const setServing = (serving: boolean) => {
    for (const name of names) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };

  let stopping: Promise<void> | undefined;
  const stop = ({ graceMs, deadlineMs }: { graceMs: number; deadlineMs: number }) => {
    stopping ??= (async () => {
      setServing(false);
      if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          options.logger.warn({ deadlineMs }, 'in-flight calls did not finish in time; cancelling them');
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      options.logger.info('gRPC server stopped');
    })();
    return stopping;
  };

  return { port, healthPort, server, setServing, stop };
}
