/**
 * The processes of the mesh, in start order: the registry first, since the others read it at start; the rollout
 * controller (which drives the registry from ModelRollout documents) last.
 */
export const SERVICE_NAMES = ['model-registry', 'tokenizer', 'inference', 'gateway', 'rollout-controller'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * The ports of the plan (DESIGN.md): gRPC 50051–50054, metrics 9464–9467; the rollout controller (health only on
 * gRPC) 50055 and 9468. The one place they are written:
 * each service's config defaults, the addresses the services default to for each other, and `npm start`.
 */
export const SERVICE_PORTS: Readonly<Record<ServiceName, Readonly<{ grpc: number; metrics: number }>>> = {
  gateway: { grpc: 50051, metrics: 9464 },
  tokenizer: { grpc: 50052, metrics: 9465 },
  inference: { grpc: 50053, metrics: 9466 },
  'model-registry': { grpc: 50054, metrics: 9467 },
  'rollout-controller': { grpc: 50055, metrics: 9468 },
};

/** The loopback address a service listens on by default: what the others default to for reaching it. */
export function defaultServiceAddress(service: ServiceName): string {
  return `127.0.0.1:${SERVICE_PORTS[service].grpc}`;
}
