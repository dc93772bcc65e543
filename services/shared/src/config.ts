import { tlsConfig, type TlsConfig } from './tls-credentials.js';

/** Thrown by ConfigReader.done(): names every bad variable at once, so one failed start shows all of them. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

interface VariableOptions<T> {
  /** Used when the variable is unset or empty; without one the variable is required. */
  default?: T;
  /** What the variable does: shown in errors, and the README's configuration tables are generated from it. */
  doc: string;
  /**
   * How the default reads in the documentation when the value itself would mislead there: one computed from the
   * machine (the CPUs available) or from another variable. The generated tables would otherwise drift per machine.
   */
  defaultDoc?: string;
}

/** One variable as a config reader saw it: what the generated configuration tables print. */
export interface ConfigVariableDoc {
  name: string;
  /** The default as the documentation shows it; undefined when the variable is required. */
  default: string | undefined;
  doc: string;
  /** Allowed range or values, when the reader checks one. */
  constraint?: string;
}

/** Set while describeConfig runs: every reader created meanwhile reports each variable it reads here. */
let variableRecorder: ConfigVariableDoc[] | undefined;

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  return typeof value === 'string' ? (value === '' ? '(empty)' : value) : String(value);
}

function record<T>(name: string, options: VariableOptions<T>, constraint?: string): void {
  if (!variableRecorder) return;
  const shown = options.defaultDoc ?? (options.default === undefined ? undefined : formatDefault(options.default));
  variableRecorder.push({ name, default: shown, doc: options.doc, ...(constraint ? { constraint } : {}) });
}

/**
 * The variables a configuration function reads, in order, with their defaults and docs: it runs `read` (e.g.
 * `() => loadConfig({})`) with recording readers. The README's configuration tables are generated from this, so
 * the reader's `doc` strings are the one source of the documentation. A ConfigError (a required variable unset)
 * is expected and ignored.
 */
export function describeConfig(read: () => unknown): ConfigVariableDoc[] {
  const recorded: ConfigVariableDoc[] = [];
  const previous = variableRecorder;
  variableRecorder = recorded;
  try {
    read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  } finally {
    variableRecorder = previous;
  }
  return recorded;
}

interface NumberOptions extends VariableOptions<number> {
  min?: number;
  max?: number;
}

/** Reads typed variables from an environment, collecting problems instead of failing on the first. */
export interface ConfigReader {
  string(name: string, options: VariableOptions<string>): string;
  int(name: string, options: NumberOptions): number;
  number(name: string, options: NumberOptions): number;
  bool(name: string, options: VariableOptions<boolean>): boolean;
  list(name: string, options: VariableOptions<string[]>): string[];
  /** One of a fixed set of values. */
  oneOf<T extends string>(name: string, values: readonly T[], options: VariableOptions<T>): T;
  /** Records a problem the typed reads cannot see (a relation between variables); reported by done() with the rest. */
  problem(message: string): void;
  /** Returns the config deep-frozen, or throws ConfigError listing every problem seen by this reader. */
  done<T extends object>(config: T): Readonly<T>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

export function configReader(env: NodeJS.ProcessEnv): ConfigReader {
  const problems: string[] = [];

  function raw<T>(name: string, options: VariableOptions<T>, placeholder: T): { text: string } | { value: T } {
    const text = env[name]?.trim();
    if (text) return { text };
    if (options.default !== undefined) return { value: options.default };
    problems.push(`${name} is required (${options.doc})`);
    return { value: placeholder };
  }

  function numeric(name: string, options: NumberOptions, integer: boolean): number {
    const { min, max } = options;
    const range = min !== undefined && max !== undefined ? `${min}–${max}` : min !== undefined ? `≥ ${min}` : max !== undefined ? `≤ ${max}` : undefined;
    record(name, options, range);
    const found = raw(name, options, 0);
    if ('value' in found) return found.value;
    const value = Number(found.text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      problems.push(`${name}=${JSON.stringify(found.text)} is not ${integer ? 'an integer' : 'a number'} (${options.doc})`);
      return options.default ?? 0;
    }
    if ((options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) {
      problems.push(`${name}=${value} is out of range [${options.min ?? '-inf'}, ${options.max ?? 'inf'}] (${options.doc})`);
    }
    return value;
  }

  return {
    string(name, options) {
      record(name, options);
      const found = raw(name, options, '');
      return 'value' in found ? found.value : found.text;
    },
    int: (name, options) => numeric(name, options, true),
    number: (name, options) => numeric(name, options, false),
    bool(name, options) {
      record(name, options, 'true/false');
      const found = raw(name, options, false);
      if ('value' in found) return found.value;
      const text = found.text.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      problems.push(`${name}=${JSON.stringify(found.text)} is not a boolean (true/false) (${options.doc})`);
      return options.default ?? false;
    },
    list(name, options) {
      record(name, options, 'comma-separated');
      const found = raw(name, options, [] as string[]);
      if ('value' in found) return [...found.value];
      return found.text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    },
    oneOf(name, values, options) {
      record(name, options, values.join(', '));
      const found = raw(name, options, values[0]!);
      if ('value' in found) return found.value;
      if (!(values as readonly string[]).includes(found.text)) {
        problems.push(`${name}=${JSON.stringify(found.text)} must be one of ${values.join(', ')} (${options.doc})`);
        return options.default ?? values[0]!;
      }
      return found.text as (typeof values)[number];
    },
    problem(message) {
      problems.push(message);
    },
    done(config) {
      if (problems.length > 0) throw new ConfigError(problems);
      return deepFreeze(config);
    },
  };
}

/** Variables every service reads: how it serves (gRPC, metrics, NATS, logs, stop). */
export interface ServerConfig {
  /** Interface the gRPC server binds. */
  grpcHost: string;
  /** gRPC port; 0 picks a free one. */
  grpcPort: number;
  /** Port of the Prometheus /metrics endpoint; 0 picks a free one, -1 turns it off. */
  metricsPort: number;
  /** Interface /metrics binds: loopback unless set (Kubernetes sets the pod IP, so only Prometheus in the cluster reaches it). */
  metricsHost: string;
  /** NATS server for registry events (the registry publishes there, the others follow). */
  natsUrl: string;
  /** NATS user name ('' when the server asks none). In Kubernetes from the Secret maas-nats, never a ConfigMap. */
  natsUser: string;
  /** Its password; never logged. In Kubernetes from the Secret maas-nats. */
  natsPassword: string;
  /** pino log level. */
  logLevel: string;
  /** After NOT_SERVING, wait this long for endpoints to update before refusing new calls. */
  shutdownGraceMs: number;
  /** In-flight calls get this long to finish before they are cancelled. */
  shutdownDeadlineMs: number;
  /** Plaintext port serving grpc.health.v1 only (kubelet gRPC probes cannot present a client certificate); -1: none. */
  healthPort: number;
  /** TLS_MODE, TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE, TLS_RELOAD_MS (tls-credentials.ts). */
  tls: TlsConfig;
}

/** Reads the server settings; `ports` are the service's defaults (SERVICE_PORTS). */
export function serverConfig(reader: ConfigReader, ports: { grpc: number; metrics: number }): ServerConfig {
  return {
    grpcHost: reader.string('GRPC_HOST', { default: '0.0.0.0', doc: 'interface the gRPC server binds' }),
    grpcPort: reader.int('GRPC_PORT', { default: ports.grpc, min: 0, max: 65535, doc: 'gRPC port (0: any free port)' }),
    metricsPort: reader.int('METRICS_PORT', { default: ports.metrics, min: -1, max: 65535, doc: 'Prometheus /metrics port (0: any free port, -1: off)' }),
    metricsHost: reader.string('METRICS_HOST', { default: '127.0.0.1', doc: 'interface /metrics binds (default loopback; the pod IP in Kubernetes)' }),
    natsUrl: reader.string('NATS_URL', { default: 'nats://127.0.0.1:4222', doc: 'NATS server for registry events' }),
    natsUser: reader.string('NATS_USER', { default: '', doc: 'NATS user name (empty: none; in Kubernetes from the Secret maas-nats)' }),
    natsPassword: reader.string('NATS_PASSWORD', { default: '', doc: "NATS user's password (never logged; in Kubernetes from the Secret maas-nats)" }),
    logLevel: reader.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', doc: 'log level' }),
    shutdownGraceMs: reader.int('SHUTDOWN_GRACE_MS', { default: 2_000, min: 0, doc: 'grace after NOT_SERVING before refusing new calls' }),
    shutdownDeadlineMs: reader.int('SHUTDOWN_DEADLINE_MS', { default: 15_000, min: 0, doc: 'time in-flight calls get to finish at stop' }),
    healthPort: reader.int('HEALTH_PORT', { default: -1, min: -1, max: 65535, doc: 'plaintext port serving only grpc.health.v1, for probes (-1: none)' }),
    tls: tlsConfig(reader),
  };
}
