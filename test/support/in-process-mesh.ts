import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig as gatewayConfig, startGatewayService } from '@maas/gateway';
import { loadConfig as inferenceConfig, startInferenceService } from '@maas/inference';
import { loadConfig as registryConfig, startRegistryService } from '@maas/model-registry';
import { createLogger } from '@maas/shared';
import { loadConfig as tokenizerConfig, startTokenizerService } from '@maas/tokenizer';

/** The four real services in this process on free ports: for tests that need to set each one's config. */
export interface InProcessMesh {
  addresses: { gateway: string; tokenizer: string; inference: string; registry: string };
  /** Each service's bound /metrics port; -1 unless the env asked for METRICS_PORT (0 picks a free one each). */
  metricsPorts: { gateway: number; tokenizer: number; inference: number; registry: number };
  stop(): Promise<void>;
}

export async function startInProcessMesh(env: Record<string, string>): Promise<InProcessMesh> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'maas-int-'));
  const logger = createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const common = { GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', METRICS_PORT: '-1', SHUTDOWN_GRACE_MS: '0', SHUTDOWN_DEADLINE_MS: '2000', ...env };
  const registry = await startRegistryService(registryConfig({ ...common, REGISTRY_DATA_DIR: path.join(dataDir, 'registry') }), { logger: logger.child({ service: 'model-registry' }) });
  const registryAddress = `127.0.0.1:${registry.port}`;
  const withRegistry = { ...common, REGISTRY_ADDRESS: registryAddress };
  const tokenizer = await startTokenizerService(tokenizerConfig(withRegistry), { logger: logger.child({ service: 'tokenizer' }) });
  const inference = await startInferenceService(inferenceConfig({ ...withRegistry, MODEL_CACHE_DIR: path.join(dataDir, 'model-cache') }), { logger: logger.child({ service: 'inference' }) });
  const addresses = { registry: registryAddress, tokenizer: `127.0.0.1:${tokenizer.port}`, inference: `127.0.0.1:${inference.port}`, gateway: '' };
  const gateway = await startGatewayService(gatewayConfig({ ...withRegistry, TOKENIZER_ADDRESS: addresses.tokenizer, INFERENCE_ADDRESS: addresses.inference }), { logger: logger.child({ service: 'gateway' }) });
  addresses.gateway = `127.0.0.1:${gateway.port}`;
  return {
    addresses,
    metricsPorts: { gateway: gateway.metricsPort, tokenizer: tokenizer.metricsPort, inference: inference.metricsPort, registry: registry.metricsPort },
    async stop() {
      await gateway.stop();
      await Promise.all([tokenizer.stop(), inference.stop()]);
      await registry.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
