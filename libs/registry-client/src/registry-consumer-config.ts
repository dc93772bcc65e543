import { SERVICE_PORTS, type ConfigReader } from '@maas/shared';

/** What a service that follows the registry (gateway, tokenizer, inference) reads besides its server settings. */
export interface RegistryConsumerConfig {
  /** Model registry gRPC address (host:port). */
  registryAddress: string;
  /** Resync from the registry this often while events flow. */
  resyncIntervalMs: number;
  /** Resync this often while NATS is unreachable (events are then the missing fast path). */
  resyncIntervalNoNatsMs: number;
}

/** Reads REGISTRY_ADDRESS and the resync periods; the registry itself does not read them. */
export function registryConsumerConfig(reader: ConfigReader): RegistryConsumerConfig {
  return {
    registryAddress: reader.string('REGISTRY_ADDRESS', { default: `127.0.0.1:${SERVICE_PORTS['model-registry'].grpc}`, doc: 'model registry gRPC address' }),
    resyncIntervalMs: reader.int('RESYNC_INTERVAL_MS', { default: 30_000, min: 100, doc: 'registry resync period while NATS is up' }),
    resyncIntervalNoNatsMs: reader.int('RESYNC_INTERVAL_NO_NATS_MS', { default: 2_000, min: 100, doc: 'registry resync period while NATS is down' }),
  };
}
