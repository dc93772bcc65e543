/**
 * The four real services in this process, on free loopback ports, over a temp data folder: the mesh for tests
 * that set each service's config or reach into a running service (resyncNow, ready). The mesh as separate
 * processes, as `npm start` runs it, is the CLI's startLocalMesh (test/e2e uses that one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig as gatewayConfig, startGatewayService, type RunningGatewayService } from '@maas/gateway';
import { loadConfig as inferenceConfig, startInferenceService, type RunningInferenceService } from '@maas/inference';
import { loadConfig as registryConfig, startRegistryService, type RunningRegistryService } from '@maas/model-registry';
import { createLogger, type ClientOptions, type RunningService } from '@maas/shared';
import { loadConfig as tokenizerConfig, startTokenizerService } from '@maas/tokenizer';
import { testPki, type TestIdentity } from './test-pki.js';

export type InProcessService = 'registry' | 'tokenizer' | 'inference' | 'gateway';

export interface InProcessMeshOptions {
  /** Variables for every service, over the test defaults (loopback, port 0, no metrics, no shutdown grace). */
  env?: Record<string, string>;
  /** Variables for one service, over `env`. */
  serviceEnv?: Partial<Record<InProcessService, Record<string, string>>>;
  /**
   * Runs once the registry is up and before the other services start (register packages, set rollouts), so
   * that their first snapshot, and so their readiness, already covers it.
   */
  beforeConsumers?: (registryAddress: string) => Promise<void>;
}

export interface InProcessMesh {
  addresses: Record<InProcessService, string>;
  services: { registry: RunningRegistryService; tokenizer: RunningService; inference: RunningInferenceService; gateway: RunningGatewayService };
  /** Each service's bound /metrics port; -1 unless the env asked for METRICS_PORT (0 picks a free one each). */
  metricsPorts: Record<InProcessService, number>;
  /** createClient options presenting `identity`'s certificate from the test CA (the admin may call every service) and the test API key (or `token`). */
  clientOptions(identity?: TestIdentity, token?: string): ClientOptions;
  /** The temp folder holding the registry's data and the model cache (removed at stop). */
  dataDir: string;
  /** Stops the gateway, then tokenizer and inference, then the registry; removes the data folder. */
  stop(): Promise<void>;
}

/** No NATS: every service follows the registry by resync alone, on a short interval (for tests that need no events). */
export const RESYNC_ONLY_ENV: Readonly<Record<string, string>> = { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '150' };

/** A gateway whose /metrics the test reads (a free port) and that notices readiness changes quickly. */
export const OBSERVED_GATEWAY_ENV: Readonly<Record<string, string>> = { METRICS_PORT: '0', READINESS_POLL_MS: '100' };

/** The settings every in-process test service gets unless the test says otherwise (TLS: the test CA's, below). */
const TEST_DEFAULTS = { GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', METRICS_PORT: '-1', SHUTDOWN_GRACE_MS: '0', SHUTDOWN_DEADLINE_MS: '2000' };

/** Starts the mesh and resolves once every service is SERVING. */
export async function startInProcessMesh(options: InProcessMeshOptions = {}): Promise<InProcessMesh> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'maas-mesh-'));
  const logger = createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const pki = await testPki();
  const identity = (service: InProcessService) => (service === 'registry' ? 'model-registry' : service);
  const envOf = (service: InProcessService, more: Record<string, string> = {}) => ({
    ...TEST_DEFAULTS,
    ...pki.env(identity(service)),
    ...options.env,
    ...more,
    ...options.serviceEnv?.[service],
  });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const registry = await startRegistryService(registryConfig(envOf('registry', { REGISTRY_DATA_DIR: path.join(dataDir, 'registry') })), {
      logger: logger.child({ service: 'model-registry' }),
    });
    stops.push(() => registry.stop());
    const registryAddress = `127.0.0.1:${registry.port}`;
    await options.beforeConsumers?.(registryAddress);

    const withRegistry = { REGISTRY_ADDRESS: registryAddress };
    const tokenizer = await startTokenizerService(tokenizerConfig(envOf('tokenizer', withRegistry)), { logger: logger.child({ service: 'tokenizer' }) });
    const inference = await startInferenceService(
      inferenceConfig(envOf('inference', { ...withRegistry, MODEL_CACHE_DIR: path.join(dataDir, 'model-cache') })),
      { logger: logger.child({ service: 'inference' }) },
    );
    stops.push(() => Promise.all([tokenizer.stop(), inference.stop()]).then(() => undefined));
    // Both have loaded what the rollouts reference: the gateway's first probes find it ready.
    await Promise.all([tokenizer.ready, inference.ready]);

    const addresses = { registry: registryAddress, tokenizer: `127.0.0.1:${tokenizer.port}`, inference: `127.0.0.1:${inference.port}`, gateway: '' };
    const gateway = await startGatewayService(
      gatewayConfig(envOf('gateway', { ...withRegistry, TOKENIZER_ADDRESS: addresses.tokenizer, INFERENCE_ADDRESS: addresses.inference })),
      {
        logger: logger.child({ service: 'gateway' }),
      },
    );
    stops.push(() => gateway.stop());
    await gateway.ready;
    addresses.gateway = `127.0.0.1:${gateway.port}`;
    const metricsPorts = { registry: registry.metricsPort, tokenizer: tokenizer.metricsPort, inference: inference.metricsPort, gateway: gateway.metricsPort };
    return {
      addresses,
      metricsPorts,
      services: { registry, tokenizer, inference, gateway },
      clientOptions: (as = 'admin', token) => pki.clientOptions(as, token),
      dataDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
