import type { Logger } from './logger.js';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if stop failed). A second signal while
 * stopping forces an immediate exit, as an operator pressing Ctrl-C twice expects.
 */
export function onShutdownSignal(options: { logger: Logger; stop: (signal: NodeJS.Signals) => Promise<void> }): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    options.logger.info({ signal }, 'stopping');
    options.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        options.logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
