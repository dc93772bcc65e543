// Wiring only: config → storage and server → SERVING; stop on SIGTERM/SIGINT.
import { ConfigError, createLogger, onShutdownSignal, shutdownTelemetry } from '@maas/shared';
import { loadConfig } from './config.js';
import { startRegistryService } from './registry-service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`model-registry: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ service: 'model-registry', level: config.logLevel });
  const registry = await startRegistryService(config, { logger });
  logger.info({ port: registry.port, metricsPort: registry.metricsPort }, 'model registry serving');
  onShutdownSignal({
    logger,
    stop: async () => {
      await registry.stop();
      await shutdownTelemetry();
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`model-registry failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
