/**
 * Writes a model's rollout into the registry, the one source of truth for what serves, with optimistic
 * concurrency: every write carries the rollout revision the controller last read (`expected_revision`); when
 * someone else changed the rollout since (ABORTED), the controller reads it again and retries with the fresh
 * revision, so it never overwrites a state it has not seen, and never gives up on a merely stale read.
 */
import { Status, type GetModelRequest, type Model__Output, type ModelRegistryClient, type Rollout__Output, type SetRolloutRequest } from '@maas/protos';
import { unaryCall } from '@maas/shared';

/** What the controller wants the registry's rollout to be. */
export interface DesiredRollout {
  stable: string;
  /** Empty: no canary. */
  canary: string;
  weight: number;
  mirror: number;
}

/** Reads through; writes return the rollout and how many stale revisions were met on the way. */
export interface RolloutWriteResult {
  rollout: Rollout__Output;
  /** ABORTED answers met (each followed by a fresh read). */
  conflicts: number;
  /** False when the registry already had the desired state (no write). */
  written: boolean;
}

/** Most stale-revision retries of one write: more means another writer is fighting the controller. */
export const MAX_WRITE_ATTEMPTS = 5;

export function getModel(registry: ModelRegistryClient, name: string, deadlineMs: number): Promise<Model__Output> {
  return unaryCall<GetModelRequest, Model__Output>(
    (r, md, o, cb) => registry.GetModel(r, md, o, cb),
    { name },
    { deadline: new Date(Date.now() + deadlineMs) },
  );
}

export function sameRollout(rollout: Rollout__Output | null | undefined, desired: DesiredRollout): boolean {
  return (
    !!rollout &&
    rollout.stable_version === desired.stable &&
    rollout.canary_version === desired.canary &&
    rollout.canary_weight === desired.weight &&
    rollout.mirror_percent === desired.mirror
  );
}

/**
 * Sets the rollout to `desired` with `expected_revision` = `knownRevision` (the revision the caller last read;
 * 0 reads first). On ABORTED: re-read, and write again unless the registry already is as desired.
 */
export async function writeRollout(options: {
  registry: ModelRegistryClient;
  model: string;
  desired: DesiredRollout;
  knownRevision: number;
  deadlineMs: number;
}): Promise<RolloutWriteResult> {
  const { registry, model, desired, deadlineMs } = options;
  let conflicts = 0;
  let known = options.knownRevision;
  if (!known) {
    const current = (await getModel(registry, model, deadlineMs)).rollout;
    if (sameRollout(current, desired)) return { rollout: current!, conflicts, written: false };
    known = Number(current?.revision ?? 0);
  }
  for (let attempt = 1; ; attempt += 1) {
    const request: SetRolloutRequest = {
      model,
      stable_version: desired.stable,
      canary_version: desired.canary,
      canary_weight: desired.weight,
      mirror_percent: desired.mirror,
      // 0 asks for no check: a model that never had a rollout has revision 0, and "any" is right for it.
      expected_revision: known,
    };
    try {
      const rollout = await unaryCall<SetRolloutRequest, Rollout__Output>((r, md, o, cb) => registry.SetRollout(r, md, o, cb), request, {
        deadline: new Date(Date.now() + deadlineMs),
      });
      return { rollout, conflicts, written: true };
    } catch (error) {
      if ((error as { code?: number }).code !== Status.ABORTED || attempt >= MAX_WRITE_ATTEMPTS) throw error;
      conflicts += 1;
      const current = (await getModel(registry, model, deadlineMs)).rollout;
      if (sameRollout(current, desired)) return { rollout: current!, conflicts, written: false };
      known = Number(current?.revision ?? 0);
    }
  }
}

/** A version label from a label or an alias of the model; undefined when it is neither. */
export function resolveVersion(model: Model__Output, labelOrAlias: string): string | undefined {
  if (model.versions.some((version) => version.version === labelOrAlias)) return labelOrAlias;
  return model.aliases.find((alias) => alias.name === labelOrAlias)?.version || undefined;
}
