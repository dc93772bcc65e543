import { createLogger, onShutdownSignal, shutdownTelemetry } from '@maas/shared';
import { loadConfig } from './config.js';
import { startTokenizerService } from './index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ service: 'tokenizer', level: config.logLevel });
  const service = await startTokenizerService(config, { logger });
  onShutdownSignal({
    logger,
    stop: async () => {
      await service.stop();
      await shutdownTelemetry();
    },
  });
}

main().catch((error: unknown) => {
  // Config errors list every bad variable; print them plainly, as an operator reads them.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
