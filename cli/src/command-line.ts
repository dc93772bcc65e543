/** maasctl's argv grammar: `<command> [positionals] [--option value | --option=value | --flag]`, `--` ends options. */
import { UsageError } from './cli-errors.js';

export const USAGE = `usage: maasctl <command> [arguments] [options]

commands:
  register <package-dir>        register the model package in <package-dir> (maas.json and the files it lists)
  models [--output json]        list models: versions, stable, canary, canary weight, mirror percent, REVISION
                                (the rollout's revision, what --expected-revision takes) and aliases
  rollout <model> --stable V [--canary V --weight W [--mirror M]] [--expected-revision N]
                                set which versions of <model> take traffic; --mirror also sends M% of stable's
                                traffic to the canary as shadow traffic (answers still from stable); with
                                --expected-revision, only if the rollout is still at revision N (else ABORTED)
  rollout <model> --promote     make the canary the stable version (one guarded call)
  rollout <model> --rollback    drop the canary, keep the stable version (one guarded call)
  alias <model> <alias> <version> [--expected-revision N]
                                point the alias (e.g. production) of <model> at <version>, atomically
  alias <model> <alias> --delete
                                remove the alias
  apply -f <file.yaml>          validate the ModelRollout documents in the file and hand them to the local rollout
                                controller (written to its folder, --rollouts-dir)
  rollout status <name> [--output json]
                                a ModelRollout's phase, step, weight, versions, last analysis and quality gate,
                                conditions and events (local controller)
  rollout promote|abort|pause|resume <name>
                                promote the candidate now, abort (roll back), pause, or resume a paused rollout
                                (local controller; in a cluster: kubectl maas rollout ...)
  classify <model> <text>... [--routing-key K | --pin V] [--output json]
                                classify texts through the gateway; one tab-separated line per text:
                                label, score, version, the text (JSON-quoted); --pin V asks for version or
                                alias V, bypassing the rollout
  fsck [--repair] [--output json]
                                hash every stored artifact; list damaged or missing blobs and the versions
                                using them (exit 1 when any); --repair removes damaged blobs, after which
                                registering the same package again restores them
  audit [model] [--limit N] [--output json]
                                the registry's audit log, newest first: when, who, what, model, revisions
  keys create --owner NAME --scopes S[,S...] [--keys-file F]
                                add an API key for the gateway and print its token (shown once; only its
                                sha256 is stored). Scopes: classify:<model>, infer:<model>, classify:*, infer:*, *
  keys revoke <key-id> [--keys-file F]
                                revoke a key (the gateway refuses it within a second)
  keys list [--keys-file F]     list the keys: id, owner, scopes, created, revoked

options:
  --registry host:port          model registry (env MAAS_REGISTRY, default 127.0.0.1:50054)
  --gateway host:port           gateway (env MAAS_GATEWAY, default 127.0.0.1:50051)
  --rollouts-dir dir            the local rollout controller's folder (env MAAS_ROLLOUTS_DIR, default .maas/rollouts)
  --timeout seconds             deadline of the command (default 60)
  --output text|json            models and classify: columns for people and cut/awk (default), or JSON
  --keys-file F                 the gateway's API keys file (env MAAS_API_KEYS_FILE, default .maas/pki/api-keys.json)

credentials: maasctl presents the admin certificate and API key npm start made in .maas/pki (env MAAS_PKI_DIR;
MAAS_API_KEY overrides the key; MAAS_TLS_MODE=plaintext for a mesh started with TLS_MODE=plaintext)
  -h, --help                    show this help
  --                            end of options (for texts starting with '-')

exit codes: 0 ok, 1 error (the registry's or gateway's status, or a local failure), 2 usage`;

/** Options that take a value, and flags that do not. */
const VALUE_OPTIONS = [
  'registry',
  'gateway',
  'timeout',
  'stable',
  'canary',
  'weight',
  'mirror',
  'expected-revision',
  'routing-key',
  'pin',
  'output',
  'owner',
  'scopes',
  'keys-file',
  'limit',
  'filename',
  'rollouts-dir',
] as const;
const FLAG_OPTIONS = ['promote', 'rollback', 'delete', 'repair', 'help'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];
type FlagOption = (typeof FLAG_OPTIONS)[number];

export const COMMANDS = ['register', 'models', 'rollout', 'alias', 'classify', 'fsck', 'apply', 'keys', 'audit'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Options each command accepts besides the global ones. */
const COMMAND_OPTIONS: Record<CommandName, readonly string[]> = {
  register: [],
  models: ['output'],
  rollout: ['stable', 'canary', 'weight', 'mirror', 'expected-revision', 'promote', 'rollback', 'rollouts-dir', 'output'],
  alias: ['expected-revision', 'delete'],
  classify: ['routing-key', 'pin', 'output'],
  fsck: ['repair', 'output'],
  apply: ['filename', 'rollouts-dir'],
  keys: ['owner', 'scopes', 'keys-file'],
  audit: ['limit', 'output'],
};
const GLOBAL_OPTIONS = ['registry', 'gateway', 'timeout', 'help'];

export interface CommandLine {
  /** Undefined only with --help and no command. */
  command: CommandName | undefined;
  positionals: string[];
  values: Partial<Record<ValueOption, string>>;
  flags: Set<FlagOption>;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const positionals: string[] = [];
  const values: Partial<Record<ValueOption, string>> = {};
  const flags = new Set<FlagOption>();
  let optionsEnded = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (optionsEnded || !arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    // kubectl's spelling of --filename.
    if (arg === '-f') {
      const value = argv[index + 1];
      index += 1;
      if (value === undefined || value === '') throw new UsageError('-f needs a file');
      if (values.filename !== undefined) throw new UsageError('--filename is given twice');
      values.filename = value;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    if ((FLAG_OPTIONS as readonly string[]).includes(name)) {
      if (equals !== -1) throw new UsageError(`--${name} takes no value`);
      flags.add(name as FlagOption);
    } else if ((VALUE_OPTIONS as readonly string[]).includes(name)) {
      let value: string | undefined;
      if (equals !== -1) value = arg.slice(equals + 1);
      else {
        value = argv[index + 1];
        index += 1;
      }
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      if (values[name as ValueOption] !== undefined) throw new UsageError(`--${name} is given twice`);
      values[name as ValueOption] = value;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  const [first, ...rest] = positionals;
  if (first === undefined) {
    if (flags.has('help')) return { command: undefined, positionals: [], values, flags };
    throw new UsageError('no command given');
  }
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  const command = first as CommandName;
  const allowed = new Set([...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command]]);
  for (const name of [...Object.keys(values), ...flags]) {
    if (!allowed.has(name)) throw new UsageError(`--${name} does not apply to ${command}`);
  }
  return { command, positionals: rest, values, flags };
}

/** A whole number within [min, max], or a usage error naming the option. */
export function parseInteger(option: string, text: string, range: { min: number; max: number }): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${option} must be a whole number (got ${JSON.stringify(text)})`);
  const value = Number(text);
  if (value < range.min || value > range.max) throw new UsageError(`--${option} must be from ${range.min} to ${range.max} (got ${value})`);
  return value;
}

/** --timeout in seconds (fractions allowed) → milliseconds. */
export function parseTimeoutMs(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds (got ${JSON.stringify(text)})`);
  return Math.round(seconds * 1000);
}

export type OutputFormat = 'text' | 'json';

/** --output: `text` (default) or `json`. */
export function parseOutputFormat(text: string | undefined): OutputFormat {
  if (text === undefined || text === 'text') return 'text';
  if (text === 'json') return 'json';
  throw new UsageError(`--output must be text or json (got ${JSON.stringify(text)})`);
}
