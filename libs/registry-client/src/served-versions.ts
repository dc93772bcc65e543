/**
 * Which versions the mesh serves: the one rule the tokenizer (which tokenizers it keeps), inference (which
 * models it loads) and the gateway (whose readiness it tracks) all apply to a registry snapshot.
 */
import type { Model__Output } from '@maas/protos';

/** One version of one model. */
export interface ServedVersion {
  model: string;
  version: string;
}

/**
 * The versions of `model` that take traffic or may be asked for by name: its rollout's stable and canary, and
 * every version an alias points at (so `version: "production"` on Classify works without a rollout naming it).
 * Each once, in that order; only versions the model lists.
 */
export function servedVersionsOf(model: Pick<Model__Output, 'versions' | 'rollout' | 'aliases'>): string[] {
  const listed = new Set(model.versions.map((version) => version.version));
  const candidates = [model.rollout?.stable_version ?? '', model.rollout?.canary_version ?? '', ...(model.aliases ?? []).map((alias) => alias.version)];
  return [...new Set(candidates)].filter((version) => version !== '' && listed.has(version));
}

/** servedVersionsOf for every model of a snapshot. */
export function servedVersions(snapshot: { models: ReadonlyArray<Pick<Model__Output, 'name' | 'versions' | 'rollout' | 'aliases'>> }): ServedVersion[] {
  return snapshot.models.flatMap((model) => servedVersionsOf(model).map((version) => ({ model: model.name, version })));
}
