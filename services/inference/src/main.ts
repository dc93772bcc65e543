/** Process entry point: wiring only (config → service → signals). */
import { ConfigError, createLogger, onShutdownSignal, shutdownTelemetry } from '@maas/shared';
import { loadConfig } from './config.js';
import { startInferenceService } from './index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ service: 'inference', level: config.logLevel });
  const service = await startInferenceService(config, { logger });
  onShutdownSignal({
    logger,
    stop: async () => {
      await service.stop();
      await shutdownTelemetry();
    },
  });
}

main().catch((error: unknown) => {
  // Config errors list every bad variable; anything else is a startup failure worth its stack.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
