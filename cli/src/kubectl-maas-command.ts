/** kubectl-maas as a function (argv in, exit code out), so that its argument handling is testable. */
import { ACTION_ANNOTATION, API_GROUP, API_VERSION, KIND, PLURAL, type ModelRolloutDocument } from '@maas/rollout-controller';
import { describeError, UsageError } from './cli-errors.js';
import { formatRolloutStatus, ROLLOUT_VERBS, verbEdit, type RolloutVerb } from './rollout-documents.js';
import type { CliIo } from './run-cli.js';

export const KUBECTL_MAAS_USAGE = `usage: kubectl maas rollout <verb> <name> [-n namespace] [--context name] [--kubeconfig file]

verbs:
  status <name>     phase, step, weight, versions, last analysis and quality gate, conditions and events
  promote <name>    make the candidate the stable version now (skips the remaining steps)
  abort <name>      roll back to the stable version now
  pause <name>      hold the rollout where it is (spec.paused: true)
  resume <name>     go on from a pause (spec.paused: false; a pause step without a duration moves on)

<name> may be written modelrollout/<name> or modelrollouts.maas.dev/<name>.`;

export interface KubectlMaasArgs {
  verb: RolloutVerb | 'status';
  name: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

export function parseKubectlMaasArgs(argv: readonly string[]): KubectlMaasArgs | 'help' {
  const positionals: string[] = [];
  const values: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === '-h' || arg === '--help') return 'help';
    const long = /^--(namespace|context|kubeconfig)(?:=(.*))?$/.exec(arg);
    if (long || arg === '-n') {
      const key = long ? long[1]! : 'namespace';
      const value = long?.[2] ?? argv[(index += 1)];
      if (!value) throw new UsageError(`${arg} needs a value`);
      values[key] = value;
    } else if (arg.startsWith('-n') && arg.length > 2) values.namespace = arg.slice(2);
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}`);
    else positionals.push(arg);
  }
  const [group, verb, target, ...rest] = positionals;
  if (group !== 'rollout') throw new UsageError(group ? `unknown command ${JSON.stringify(group)} (only "rollout")` : 'no command given');
  if (!verb || !(ROLLOUT_VERBS as readonly string[]).includes(verb)) throw new UsageError(`rollout needs one of ${ROLLOUT_VERBS.join(', ')}`);
  if (!target) throw new UsageError(`rollout ${verb} needs a ModelRollout name`);
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const slash = target.indexOf('/');
  if (slash !== -1 && !['modelrollout', 'modelrollouts', `modelrollout.${API_GROUP}`, `modelrollouts.${API_GROUP}`, 'mr'].includes(target.slice(0, slash))) {
    throw new UsageError(`${JSON.stringify(target)} is not a ModelRollout (modelrollout/<name>)`);
  }
  return { verb: verb as KubectlMaasArgs['verb'], name: target.slice(slash + 1), ...values };
}

export async function runKubectlMaas(argv: readonly string[], io: CliIo): Promise<number> {
  let args: KubectlMaasArgs | 'help';
  try {
    args = parseKubectlMaasArgs(argv);
  } catch (error) {
    io.stderr.write(`error: ${describeError(error)}\n${KUBECTL_MAAS_USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(`${KUBECTL_MAAS_USAGE}\n`);
    return 0;
  }
  try {
    io.stdout.write(`${await runAgainstCluster(args)}\n`);
    return 0;
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    const message = typeof body === 'string' ? safeStatusMessage(body) : undefined;
    io.stderr.write(`error: ${message ?? describeError(error)}\n`);
    return 1;
  }
}

/** The message of a Kubernetes Status body (e.g. `modelrollouts.maas.dev "x" not found`), when it is one. */
function safeStatusMessage(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return undefined;
  }
}

async function runAgainstCluster(args: KubectlMaasArgs): Promise<string> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = new k8s.KubeConfig();
  if (args.kubeconfig) kubeConfig.loadFromFile(args.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (args.context) kubeConfig.setCurrentContext(args.context);
  const namespace = args.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const object = { group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL, name: args.name };
  if (args.verb === 'status') {
    const doc = (await custom.getNamespacedCustomObject(object)) as ModelRolloutDocument;
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${KIND},involvedObject.name=${args.name}` });
    const lines = events.items
      .map((event) => ({
        time: new Date(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? 0).toISOString(),
        type: event.type ?? '',
        reason: event.reason ?? '',
        message: event.message ?? '',
      }))
      .sort((a, b) => a.time.localeCompare(b.time));
    return formatRolloutStatus(doc, lines);
  }
  const edit = verbEdit(args.verb);
  const patch: Record<string, unknown> = {};
  if (edit.action) patch.metadata = { annotations: { [ACTION_ANNOTATION]: edit.action } };
  if (edit.paused !== undefined) patch.spec = { paused: edit.paused };
  // A JSON merge patch: only these fields change, whatever else the object holds.
  await custom.patchNamespacedCustomObject({ ...object, body: patch }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  return `modelrollout.${API_GROUP}/${args.name} ${args.verb === 'abort' ? 'aborted' : `${args.verb}d`}`;
}
