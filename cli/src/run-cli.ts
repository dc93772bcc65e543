/** maasctl: parse argv, run one command, print its result; returns the exit code (0 ok, 1 error, 2 usage). */
import type {
  Alias__Output,
  CheckStorageResponse__Output,
  ListModelsResponse__Output,
  Model__Output,
  ModelVersion__Output,
  Rollout__Output,
} from '@maas/protos';
import { classify, DEFAULT_GATEWAY_ADDRESS, formatPredictions, predictionsAsJson } from './classify-command.js';
import { describeError, UsageError } from './cli-errors.js';
import { parseCommandLine, parseInteger, parseOutputFormat, parseTimeoutMs, USAGE, type CommandLine } from './command-line.js';
import { formatBytes, formatTable } from './output-format.js';
import {
  applyLocalVerb,
  applyRolloutFile,
  DEFAULT_ROLLOUTS_DIR,
  formatRolloutStatus,
  readLocalRollout,
  ROLLOUT_VERBS,
  type RolloutVerb,
} from './rollout-documents.js';
import {
  checkStorage,
  DEFAULT_REGISTRY_ADDRESS,
  DEFAULT_TIMEOUT_MS,
  listAuditEvents,
  listModels,
  promoteCanary,
  registerPackage,
  rollbackCanary,
  setAlias,
  setRollout,
  type RegistryCallOptions,
} from './registry-commands.js';
import { cliClientOptions } from './cli-credentials.js';
import { apiKeysFile, runKeysCommand } from './keys-command.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (error) {
    return usageError(io, error);
  }
  if (line.flags.has('help') || !line.command) {
    io.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  try {
    const result = await runCommand(line, io.env);
    // A command that found a problem (fsck) still prints its report, then exits 1.
    const { output, exitCode } = typeof result === 'string' ? { output: result, exitCode: EXIT_OK } : result;
    io.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
    return exitCode;
  } catch (error) {
    if (error instanceof UsageError) return usageError(io, error);
    io.stderr.write(`error: ${describeError(error)}\n`);
    return EXIT_ERROR;
  }
}

function usageError(io: CliIo, error: unknown): number {
  io.stderr.write(`error: ${describeError(error)}\nrun "maasctl --help" for usage\n`);
  return EXIT_USAGE;
}

function expectPositionals(line: CommandLine, names: string[], options: { variadic?: boolean } = {}): void {
  const missing = names.slice(line.positionals.length);
  if (missing.length > 0) throw new UsageError(`${line.command} needs ${missing.map((name) => `<${name}>`).join(' ')}`);
  if (!options.variadic && line.positionals.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(line.positionals[names.length])} for ${line.command}`);
  }
}

async function runCommand(line: CommandLine, env: NodeJS.ProcessEnv): Promise<string | { output: string; exitCode: number }> {
  const timeoutMs = parseTimeoutMs(line.values.timeout, DEFAULT_TIMEOUT_MS);
  const registryAddress = line.values.registry ?? (env.MAAS_REGISTRY?.trim() || DEFAULT_REGISTRY_ADDRESS);
  const gatewayAddress = line.values.gateway ?? (env.MAAS_GATEWAY?.trim() || DEFAULT_GATEWAY_ADDRESS);
  if (line.command === 'keys') {
    // Local files only: no credential needed.
    const [action, ...args] = line.positionals;
    return runKeysCommand({ action, args, owner: line.values.owner, scopes: line.values.scopes, file: apiKeysFile(line.values['keys-file'], env) });
  }
  // apply and the rollout verbs only touch the local ModelRollout folder: no credential needed either.
  const localFilesOnly =
    line.command === 'apply' ||
    (line.command === 'rollout' && (ROLLOUT_VERBS as readonly string[]).includes(line.positionals[0] ?? '') && line.positionals.length === 2);
  const client = localFilesOnly ? {} : cliClientOptions(env);
  const registry = { registryAddress, timeoutMs, client };
  const output = parseOutputFormat(line.values.output);
  const rolloutsDir = line.values['rollouts-dir'] ?? (env.MAAS_ROLLOUTS_DIR?.trim() || DEFAULT_ROLLOUTS_DIR);

  switch (line.command) {
    case 'register': {
      expectPositionals(line, ['package-dir']);
      const version = await registerPackage({ ...registry, packageDir: line.positionals[0]! });
      return describeRegistration(version);
    }
    case 'models': {
      expectPositionals(line, []);
      const snapshot = await listModels(registry);
      if (output === 'json') return JSON.stringify(describeSnapshot(snapshot), null, 2);
      if (snapshot.models.length === 0) return `no models registered (registry revision ${snapshot.revision})`;
      const rows = snapshot.models.map((model) => [
        model.name,
        model.versions.map((version) => version.version).join(','),
        model.rollout?.stable_version || '-',
        model.rollout?.canary_version || '-',
        model.rollout?.canary_version ? `${model.rollout.canary_weight}%` : '-',
        model.rollout?.mirror_percent ? `${model.rollout.mirror_percent}%` : '-',
        // The rollout's own revision: what SetRollout's expected_revision (--expected-revision) compares with.
        model.rollout?.revision ? String(model.rollout.revision) : '-',
        model.aliases.length > 0 ? model.aliases.map((alias) => `${alias.name}=${alias.version}`).join(',') : '-',
      ]);
      return formatTable(['MODEL', 'VERSIONS', 'STABLE', 'CANARY', 'WEIGHT', 'MIRROR', 'REVISION', 'ALIASES'], rows);
    }
    case 'alias': {
      const removing = line.flags.has('delete');
      expectPositionals(line, removing ? ['model', 'alias'] : ['model', 'alias', 'version']);
      const [model, alias, version = ''] = line.positionals as [string, string, string?];
      const expected = line.values['expected-revision'];
      const result = await setAlias({
        ...registry,
        model,
        alias,
        version,
        expectedRevision: expected === undefined ? undefined : parseInteger('expected-revision', expected, { min: 1, max: Number.MAX_SAFE_INTEGER }),
      });
      return describeAlias(model, alias, result);
    }
    case 'apply': {
      expectPositionals(line, []);
      if (!line.values.filename) throw new UsageError('apply needs -f <file.yaml>');
      return applyRolloutFile({ file: line.values.filename, dir: rolloutsDir }).join('\n');
    }
    case 'rollout': {
      const verb = line.positionals[0];
      if ((ROLLOUT_VERBS as readonly string[]).includes(verb ?? '') && line.positionals.length === 2) {
        const name = line.positionals[1]!;
        if (verb === 'status') {
          const { doc, events } = readLocalRollout({ dir: rolloutsDir, name });
          return output === 'json' ? JSON.stringify({ ...doc, events }, null, 2) : formatRolloutStatus(doc, events);
        }
        return applyLocalVerb({ dir: rolloutsDir, name, verb: verb as RolloutVerb });
      }
      expectPositionals(line, ['model']);
      if (line.values.output !== undefined) throw new UsageError('--output does not apply to rollout (only to rollout status)');
      return describeRollout(await runRollout(line, registry));
    }
    case 'audit': {
      if (line.positionals.length > 1) throw new UsageError('audit takes at most one model');
      const limit = line.values.limit === undefined ? undefined : parseInteger('limit', line.values.limit, { min: 1, max: 1000 });
      const { events } = await listAuditEvents({ ...registry, model: line.positionals[0], limit });
      if (output === 'json') return JSON.stringify(events, null, 2);
      if (events.length === 0) return 'no audit events';
      return formatTable(
        ['TIME', 'ACTOR', 'ACTION', 'MODEL', 'REVISION', 'DETAILS'],
        events.map((event) => [event.occurred_at, event.actor, event.action, event.model, `${event.from_revision}->${event.to_revision}`, event.details_json]),
      );
    }
    case 'classify': {
      expectPositionals(line, ['model', 'text'], { variadic: true });
      const [model, ...texts] = line.positionals as [string, ...string[]];
      if (line.values['routing-key'] !== undefined && line.values.pin !== undefined)
        throw new UsageError('--routing-key and --pin exclude each other (a pin bypasses the rollout)');
      const response = await classify({ gatewayAddress, model, texts, routingKey: line.values['routing-key'], version: line.values.pin, timeoutMs, client });
      return output === 'json' ? predictionsAsJson(model, texts, response) : formatPredictions(texts, response);
    }
    case 'fsck': {
      expectPositionals(line, []);
      const report = await checkStorage({ ...registry, repair: line.flags.has('repair') });
      return {
        output: output === 'json' ? JSON.stringify(report, null, 2) : describeStorageCheck(report),
        exitCode: report.damaged.length > 0 ? EXIT_ERROR : EXIT_OK,
      };
    }
    default:
      throw new UsageError('no command given');
  }
}

function runRollout(line: CommandLine, registry: RegistryCallOptions): Promise<Rollout__Output> {
  const model = line.positionals[0]!;
  const { stable, canary, weight, mirror } = line.values;
  const shorthand = line.flags.has('promote') ? 'promote' : line.flags.has('rollback') ? 'rollback' : undefined;
  if (shorthand) {
    if (line.flags.has('promote') && line.flags.has('rollback')) throw new UsageError('--promote and --rollback exclude each other');
    if (stable ?? canary ?? weight ?? mirror ?? line.values['expected-revision'])
      throw new UsageError(`--${shorthand} takes no --stable, --canary, --weight, --mirror or --expected-revision`);
    return shorthand === 'promote' ? promoteCanary({ ...registry, model }) : rollbackCanary({ ...registry, model });
  }
  if (!stable) throw new UsageError('rollout needs --stable V (or --promote / --rollback)');
  if (canary !== undefined && weight === undefined) throw new UsageError('--canary needs --weight W (0-100)');
  if (canary === undefined && weight !== undefined) throw new UsageError('--weight needs --canary V');
  if (canary === undefined && mirror !== undefined) throw new UsageError('--mirror needs --canary V');
  return setRollout({
    ...registry,
    model,
    stableVersion: stable,
    canaryVersion: canary,
    canaryWeight: weight === undefined ? 0 : parseInteger('weight', weight, { min: 0, max: 100 }),
    mirrorPercent: mirror === undefined ? 0 : parseInteger('mirror', mirror, { min: 0, max: 100 }),
    expectedRevision:
      line.values['expected-revision'] === undefined
        ? undefined
        : parseInteger('expected-revision', line.values['expected-revision'], { min: 1, max: Number.MAX_SAFE_INTEGER }),
  });
}

function describeRegistration(version: ModelVersion__Output): string {
  const files = version.artifacts.filter((artifact) => artifact.path !== 'maas.json');
  const bytes = files.reduce((sum, artifact) => sum + artifact.size_bytes, 0);
  return `registered ${version.model} version ${version.version} (${files.length} files, ${formatBytes(bytes)}, revision ${version.revision})`;
}

function describeRollout(rollout: Rollout__Output): string {
  const mirror = rollout.mirror_percent ? `, mirroring ${rollout.mirror_percent}% of stable's traffic to it` : '';
  const canary = rollout.canary_version ? `canary ${rollout.canary_version} at ${rollout.canary_weight}%${mirror}` : 'no canary';
  return `${rollout.model}: stable ${rollout.stable_version}, ${canary} (revision ${rollout.revision})`;
}

function describeAlias(model: string, name: string, alias: Alias__Output): string {
  if (!alias.version) return `${model}: alias ${name} removed${alias.revision ? ` (revision ${alias.revision})` : ' (it did not exist)'}`;
  return `${model}: alias ${name} -> version ${alias.version} (revision ${alias.revision})`;
}

/** `maasctl models --output json` aliases: name → version and the alias's revision (what --expected-revision takes). */
function describeAliases(model: Model__Output) {
  return Object.fromEntries(model.aliases.map((alias) => [alias.name, { version: alias.version, revision: alias.revision }]));
}

/** `maasctl models --output json`: names, versions and rollouts (manifests and artifacts left out). */
function describeSnapshot(snapshot: ListModelsResponse__Output) {
  return {
    registry_revision: snapshot.revision,
    models: snapshot.models.map((model) => ({
      name: model.name,
      versions: model.versions.map((version) => version.version),
      rollout: model.rollout?.revision
        ? {
            stable_version: model.rollout.stable_version,
            canary_version: model.rollout.canary_version,
            canary_weight: model.rollout.canary_weight,
            mirror_percent: model.rollout.mirror_percent,
            revision: model.rollout.revision,
          }
        : null,
      aliases: describeAliases(model),
    })),
  };
}

/** `maasctl fsck`: one line per damaged blob and one per version file it holds. */
function describeStorageCheck(report: CheckStorageResponse__Output): string {
  const summary = `checked ${report.blobs_checked} blobs (${formatBytes(Number(report.bytes_checked))} hashed)`;
  if (report.damaged.length === 0) return `${summary}: all intact`;
  const lines = [`${summary}: ${report.damaged.length} damaged`];
  for (const blob of report.damaged) {
    lines.push(`${blob.sha256}\t${blob.problem}\t${blob.removed ? 'removed' : 'kept'}`);
    for (const use of blob.used_by) lines.push(`  ${use.model} version ${use.version}: ${use.path}`);
  }
  const removed = report.damaged.some((blob) => blob.removed);
  lines.push(removed ? 'register the affected packages again to restore them' : 'run "maasctl fsck --repair", then register the affected packages again');
  return lines.join('\n');
}
