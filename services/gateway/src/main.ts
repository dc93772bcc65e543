// Process entry point: wiring only (config → service → signals). Run with the telemetry preload:
// node --require services/shared/dist/telemetry-preload.js services/gateway/dist/main.js
import { ConfigError, createLogger, onShutdownSignal, shutdownTelemetry } from '@maas/shared';
import { loadConfig } from './config.js';
import { startGatewayService } from './index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gateway: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  const service = await startGatewayService(config, { logger });
  onShutdownSignal({
    logger,
    stop: async () => {
      await service.stop();
      await shutdownTelemetry();
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
