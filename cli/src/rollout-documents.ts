/**
 * ModelRollout documents for maasctl (local controller) and kubectl-maas (cluster): apply into the local
 * controller's folder, the action verbs (promote, abort, pause, resume: the same edits in both places, an
 * annotation or spec.paused), and the status text both print.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ACTION_ANNOTATION,
  readStatusFile,
  validateModelRollout,
  type ModelRolloutDocument,
  type ModelRolloutStatus,
  type RolloutAction,
} from '@maas/rollout-controller';
import { parseAllDocuments, parseDocument } from 'yaml';
import { CliError } from './cli-errors.js';
import { formatTable } from './output-format.js';

/** The local controller's folder unless MAAS_ROLLOUTS_DIR says otherwise (what `npm start` passes it as ROLLOUTS_DIR). */
export const DEFAULT_ROLLOUTS_DIR = '.maas/rollouts';

export type RolloutVerb = RolloutAction | 'pause';
export const ROLLOUT_VERBS = ['status', 'promote', 'abort', 'pause', 'resume'] as const;

/** An event as both stores report it. */
export interface RolloutEventLine {
  time: string;
  type: string;
  reason: string;
  message: string;
}

/**
 * Validates every ModelRollout in `file` (one or more YAML documents) and writes each to `<dir>/<name>.yaml`,
 * where the local controller picks it up. Nothing is written unless every document is valid.
 */
export function applyRolloutFile(options: { file: string; dir: string }): string[] {
  let text: string;
  try {
    text = fs.readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const docs = parseAllDocuments(text);
  const problems: string[] = [];
  const valid: Array<{ name: string; text: string }> = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) return void problems.push(`document ${index + 1}: not YAML (${doc.errors[0]!.message})`);
    const value = doc.toJS() as ModelRolloutDocument;
    const found = validateModelRollout(value);
    if (found.length > 0) problems.push(...found.map((problem) => `document ${index + 1}: ${problem}`));
    else valid.push({ name: value.metadata.name, text: doc.toString() });
  });
  if (problems.length > 0) throw new CliError(`${options.file}: invalid ModelRollout:\n  - ${problems.join('\n  - ')}`);
  if (valid.length === 0) throw new CliError(`${options.file} holds no ModelRollout`);
  fs.mkdirSync(options.dir, { recursive: true });
  for (const doc of valid) {
    const target = path.join(options.dir, `${doc.name}.yaml`);
    fs.writeFileSync(`${target}.tmp`, doc.text);
    fs.renameSync(`${target}.tmp`, target);
  }
  return valid.map((doc) => `modelrollout.maas.dev/${doc.name} configured`);
}

/** The edit each verb makes to a document: pause sets spec.paused; resume clears it and asks to resume; promote and abort ask. */
export function verbEdit(verb: RolloutVerb, now = new Date()): { paused?: boolean; action?: string } {
  const action = `${verb}@${now.toISOString()}`;
  if (verb === 'pause') return { paused: true };
  if (verb === 'resume') return { paused: false, action };
  return { action };
}

/** Applies a verb to the local document `<dir>/<name>.yaml` (comments and layout kept). */
export function applyLocalVerb(options: { dir: string; name: string; verb: RolloutVerb }): string {
  const file = path.join(options.dir, `${options.name}.yaml`);
  if (!fs.existsSync(file)) throw new CliError(`no ModelRollout ${JSON.stringify(options.name)} in ${options.dir} (maasctl apply -f <file> first)`);
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const edit = verbEdit(options.verb);
  if (edit.paused !== undefined) doc.setIn(['spec', 'paused'], edit.paused);
  if (edit.action) doc.setIn(['metadata', 'annotations', ACTION_ANNOTATION], edit.action);
  fs.writeFileSync(`${file}.tmp`, doc.toString());
  fs.renameSync(`${file}.tmp`, file);
  return `modelrollout.maas.dev/${options.name} ${options.verb === 'abort' ? 'aborted' : `${options.verb}d`}`;
}

/** The local document and its status and events, for `maasctl rollout status`. */
export function readLocalRollout(options: { dir: string; name: string }): { doc: ModelRolloutDocument; events: RolloutEventLine[] } {
  const file = path.join(options.dir, `${options.name}.yaml`);
  if (!fs.existsSync(file)) throw new CliError(`no ModelRollout ${JSON.stringify(options.name)} in ${options.dir}`);
  const doc = parseDocument(fs.readFileSync(file, 'utf8')).toJS() as ModelRolloutDocument;
  const saved = readStatusFile(options.dir, options.name);
  doc.status = saved?.status;
  return { doc, events: saved?.events ?? [] };
}

const percent = (value: number | undefined) => `${value ?? 0}%`;
const fixed = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(4));

/** `rollout status`: what `kubectl describe` would say, in a shape people read top to bottom. */
export function formatRolloutStatus(doc: ModelRolloutDocument, events: readonly RolloutEventLine[]): string {
  const status: ModelRolloutStatus = doc.status ?? {};
  const steps = doc.spec.steps;
  const index = status.currentStepIndex ?? 0;
  const step = steps[index];
  const ready = (version: string | undefined) => status.versions?.find((entry) => entry.version === version)?.ready;
  const lines = [
    `Name:         ${doc.metadata.name}`,
    `Model:        ${doc.spec.model}`,
    `Phase:        ${status.phase ?? 'Pending (not reconciled yet)'}${status.phase === 'Progressing' || status.phase === 'Paused' ? ` (step ${Math.min(index + 1, steps.length)}/${steps.length}${step ? `: ${JSON.stringify(step)}` : ''})` : ''}`,
    `Message:      ${status.message ?? '-'}`,
    `Stable:       ${doc.spec.stable}${status.stableVersion && status.stableVersion !== doc.spec.stable ? ` (version ${status.stableVersion})` : ''}${ready(status.stableVersion) === undefined ? '' : ready(status.stableVersion) ? ', ready' : ', not ready'}`,
    `Candidate:    ${doc.spec.candidate}${status.candidateVersion && status.candidateVersion !== doc.spec.candidate ? ` (version ${status.candidateVersion})` : ''}${ready(status.candidateVersion) === undefined ? '' : ready(status.candidateVersion) ? ', ready' : ', not ready'}`,
    `Weight:       ${percent(status.weight)}    Mirror: ${percent(status.mirrorPercent)}    Registry revision: ${status.registryRevision ?? '-'}`,
    `Generation:   ${doc.metadata.generation ?? '-'} (observed ${status.observedGeneration ?? '-'})`,
  ];
  const analysis = status.lastAnalysis;
  if (analysis) {
    lines.push(
      `Analysis:     ${analysis.result} at step ${analysis.step + 1} (${Math.round(analysis.windowSeconds)} s window): candidate ${analysis.candidate.requests} requests, error ratio ${fixed(analysis.candidate.errorRatio)} (stable ${fixed(analysis.stable.errorRatio)}), p99 ${fixed(analysis.candidate.p99LatencySeconds)} s (stable ${fixed(analysis.stable.p99LatencySeconds)} s), agreement ${fixed(analysis.agreement)} on ${analysis.mirroredPredictions} mirrored texts`,
    );
    for (const failure of analysis.failures) lines.push(`              - ${failure}`);
  }
  const gate = status.lastQualityGate;
  if (gate) {
    lines.push(
      `Quality gate: ${gate.result} on ${gate.texts} texts: accuracy ${fixed(gate.candidate.accuracy)} (stable ${fixed(gate.stable.accuracy)}), F1 ${fixed(gate.candidate.f1)} (stable ${fixed(gate.stable.f1)})`,
    );
    for (const failure of gate.failures) lines.push(`              - ${failure}`);
  }
  if (status.conditions?.length) {
    lines.push(
      'Conditions:',
      indent(
        formatTable(
          ['TYPE', 'STATUS', 'REASON', 'MESSAGE'],
          status.conditions.map((c) => [c.type, c.status, c.reason, c.message || '-']),
        ),
      ),
    );
  }
  if (events.length)
    lines.push(
      'Events:',
      indent(
        formatTable(
          ['TIME', 'TYPE', 'REASON', 'MESSAGE'],
          events.map((e) => [e.time, e.type, e.reason, e.message]),
        ),
      ),
    );
  return lines.join('\n');
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
