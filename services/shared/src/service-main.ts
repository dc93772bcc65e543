import { ConfigError } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { onShutdownSignal } from './shutdown.js';
import { shutdownTelemetry } from './telemetry.js';

/** What every `startXxxService` takes besides its config. */
export interface StartServiceOptions {
  logger: Logger;
}

/** What every `startXxxService` resolves to: what main.ts, the tests and the local mesh drive a service with. */
export interface RunningService {
  /** The bound gRPC port (the real one when the config asked for 0). */
  readonly port: number;
  /** The bound /metrics port (the real one when the config asked for 0); -1 when metrics are off. */
  readonly metricsPort: number;
  /** Resolves once health reports SERVING (after whatever warm-up the service does first). */
  readonly ready: Promise<void>;
  /** Clean stop: NOT_SERVING, grace, in-flight calls finish, then everything is closed. Safe to call twice. */
  stop(): Promise<void>;
}

/** Exit status of a service whose configuration is invalid: a supervisor can tell it from a crash (1). */
export const CONFIG_ERROR_EXIT_CODE = 2;
/** Exit status of a service that failed to start for any other reason. */
export const START_FAILURE_EXIT_CODE = 1;

export interface ServiceMainOptions<Config extends { logLevel: string }> {
  /** The service's name: its log lines' `service` and the prefix of what is printed on stderr. */
  service: string;
  /** Reads the configuration; throws ConfigError naming every bad variable. */
  loadConfig(env: NodeJS.ProcessEnv): Config;
  start(config: Config, options: StartServiceOptions): Promise<Pick<RunningService, 'stop'>>;
}

async function startService<Config extends { logLevel: string }>(options: ServiceMainOptions<Config>): Promise<void> {
  const config = options.loadConfig(process.env);
  const logger = createLogger({ service: options.service, level: config.logLevel });
  const running = await options.start(config, { logger });
  onShutdownSignal({
    logger,
    stop: async () => {
      await running.stop();
      await shutdownTelemetry();
    },
  });
}

/**
 * The whole of a service's main.ts: config from the environment → logger → start → on SIGTERM/SIGINT stop the
 * service and flush telemetry. Exit codes, the same for every service:
 * - 2 (CONFIG_ERROR_EXIT_CODE): the configuration is invalid; every bad variable is printed on stderr;
 * - 1 (START_FAILURE_EXIT_CODE): the start failed; the stack is printed on stderr;
 * - after a signal, 0 for a clean stop and 1 when stopping failed (see onShutdownSignal).
 */
export function runServiceMain<Config extends { logLevel: string }>(options: ServiceMainOptions<Config>): void {
  startService(options).catch((error: unknown) => {
    // Config errors are for an operator: the list of variables, plainly. Anything else is a bug worth its stack.
    const configError = error instanceof ConfigError;
    const text = configError ? error.message : `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    process.stderr.write(`${options.service}: ${text}\n`);
    process.exit(configError ? CONFIG_ERROR_EXIT_CODE : START_FAILURE_EXIT_CODE);
  });
}
