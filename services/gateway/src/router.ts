import type { ListModelsResponse__Output, ModelManifest__Output } from '@maas/protos';
import { servedVersionsOf } from '@maas/registry-client';
import { failedPrecondition, notFound, quote, unavailable } from '@maas/shared';

/** One version of one model. */
export interface VersionRef {
  model: string;
  version: string;
}

/** What the gateway knows about one model: its rollout and the manifest of each of its versions. */
export interface ModelRoute {
  name: string;
  /** Version taking the traffic the canary does not; '' when the model has no rollout yet. */
  stable: string;
  /** Version under test; '' for none. */
  canary: string;
  /** Percent (0–100) of traffic for the canary. */
  canaryWeight: number;
  /** Percent (0–100) of the stable version's traffic also sent to the canary as shadow traffic (0 without a canary). */
  mirrorPercent: number;
  /** Manifest of every registered version, by version label. */
  manifests: ReadonlyMap<string, ModelManifest__Output>;
  /** Version label of each alias of the model, by alias name. */
  aliases: ReadonlyMap<string, string>;
  /** The versions the mesh serves (servedVersionsOf): the ones inference loads and readiness tracks. */
  served: readonly string[];
}

/** The routing state of the gateway, rebuilt from each registry snapshot (never mutated). */
export interface RoutingTable {
  /** Registry revision of the snapshot it was built from. */
  revision: number;
  models: ReadonlyMap<string, ModelRoute>;
}

/** Builds the routing table from a ListModels snapshot (which carries every version's manifest). */
export function buildRoutingTable(snapshot: ListModelsResponse__Output): RoutingTable {
  const models = new Map<string, ModelRoute>();
  for (const model of snapshot.models) {
    const manifests = new Map<string, ModelManifest__Output>();
    for (const version of model.versions) {
      if (version.manifest) manifests.set(version.version, version.manifest);
    }
    const rollout = model.rollout;
    const canary = rollout?.canary_version ?? '';
    const percent = (value: number | undefined) => (canary ? Math.min(100, Math.max(0, value ?? 0)) : 0);
    models.set(model.name, {
      name: model.name,
      stable: rollout?.stable_version ?? '',
      canary,
      canaryWeight: percent(rollout?.canary_weight),
      mirrorPercent: percent(rollout?.mirror_percent),
      manifests,
      aliases: new Map((model.aliases ?? []).map((alias) => [alias.name, alias.version])),
      served: servedVersionsOf(model),
    });
  }
  return { revision: snapshot.revision, models };
}

/**
 * Every version the mesh serves (a rollout's stable and canary, aliased versions: servedVersions of
 * @maas/registry-client, recorded per route at build time): whose readiness the gateway tracks, beside the
 * draining ones.
 */
export function referencedVersions(table: RoutingTable): VersionRef[] {
  return [...table.models.values()].flatMap((route) => route.served.map((version) => ({ model: route.name, version })));
}

/**
 * The version label a pin names: a version label of the model, or one of its aliases (the registry keeps the
 * two apart, so at most one matches). NOT_FOUND for an unknown model or a name that is neither.
 */
export function resolvePin(table: RoutingTable, ref: VersionRef): { version: string; manifest: ModelManifest__Output } {
  const route = table.models.get(ref.model);
  if (!route) throw notFound(`model ${quote(ref.model)} not found`);
  const version = route.manifests.has(ref.version) ? ref.version : (route.aliases.get(ref.version) ?? '');
  const manifest = route.manifests.get(version);
  if (!manifest) throw notFound(`model ${quote(ref.model)} has no version or alias ${quote(ref.version)}`);
  return { version, manifest };
}

/**
 * The sticky bucket (0–99) of a routing key for a model's canary: FNV-1a (32-bit) over the UTF-8 bytes of
 * `model \0 canary \0 key`, then the murmur3 finalizer for avalanche, modulo 100. Deterministic across
 * processes and restarts, so every gateway replica sends a key to the same version. The canary version is
 * part of the input so that each new canary draws a fresh cohort, while raising the weight of one rollout
 * only adds keys to the canary (bucket < weight), never moves a key back.
 */
export function stickyBucket(key: string, model: string, canaryVersion: string): number {
  const bytes = Buffer.from(`${model}\u0000${canaryVersion}\u0000${key}`, 'utf8');
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % 100;
}

export interface RouteRequest {
  model: string;
  /** Sticky key; empty or absent: drawn at random by the canary weight. */
  routingKey?: string;
  /** Whether inference reports the version ready (see ReadinessTracker). */
  isReady: (model: string, version: string) => boolean;
  /** Uniform [0, 1) source for keyless requests (tests pass a fixed one). */
  random?: () => number;
  /**
   * Versions that served the stable share under earlier rollouts, most recent first (see drainingVersions):
   * while the stable version is not ready, its share goes to the first ready one of them.
   */
  draining?: readonly string[];
}

/** Where a request goes. */
export interface RouteDecision {
  version: string;
  manifest: ModelManifest__Output;
  /** Which side of the rollout answers; 'draining': a version of an earlier rollout, while the stable one is not ready. */
  target: RouteTarget;
  /** True when the drawn side was not ready and another version answers instead. */
  fallback: boolean;
}

export type RouteTarget = 'stable' | 'canary' | 'draining' | 'pinned';

/**
 * Picks the version of `model` that answers a request, never one that is not ready. The stable share goes to
 * the stable version, else (while it is not ready, e.g. just after a promote or a rollback) to the first
 * ready draining version, else to a ready canary; the canary share goes to the canary, else it follows the
 * stable share. NOT_FOUND for an unknown model, FAILED_PRECONDITION for a model without a rollout,
 * UNAVAILABLE when none of those versions is ready.
 */
export function pickVersion(table: RoutingTable, request: RouteRequest): RouteDecision {
  const route = table.models.get(request.model);
  if (!route) throw notFound(`model ${quote(request.model)} not found`);
  if (!route.stable) throw failedPrecondition(`model ${quote(request.model)} has no rollout; set one with: maasctl rollout ${request.model} --stable VERSION`);

  let wantCanary = false;
  if (route.canary && route.canaryWeight > 0) {
    wantCanary = request.routingKey
      ? stickyBucket(request.routingKey, route.name, route.canary) < route.canaryWeight
      : (request.random ?? Math.random)() * 100 < route.canaryWeight;
  }
  const draining = request.draining ?? [];
  const stableShare: Array<{ target: RouteTarget; version: string }> = [
    { target: 'stable', version: route.stable },
    ...draining.map((version) => ({ target: 'draining' as const, version })),
  ];
  const canary = route.canary ? [{ target: 'canary' as const, version: route.canary }] : [];
  const sides = wantCanary ? [...canary, ...stableShare] : [...stableShare, ...canary];

  for (const [index, side] of sides.entries()) {
    const manifest = route.manifests.get(side.version);
    if (manifest && request.isReady(route.name, side.version)) {
      return { version: side.version, manifest, target: side.target, fallback: index > 0 };
    }
  }
  const waiting = [
    `stable ${route.stable}`,
    ...(route.canary ? [`canary ${route.canary}`] : []),
    ...(draining.length > 0 ? [`draining ${draining.join(', ')}`] : []),
  ];
  throw unavailable(`no ready version of model ${quote(request.model)} (${waiting.join('; ')}: still loading or unloaded)`);
}

export interface DrainingInput {
  /** The model's route in the table being replaced; undefined when the model is new to the gateway. */
  previous: ModelRoute | undefined;
  /** The draining versions in force with `previous` (most recent first). */
  previousDraining: readonly string[];
  /** The model's route in the new table. */
  next: ModelRoute;
  isReady: (model: string, version: string) => boolean;
}

/**
 * Which versions keep the stable share of `next` while its stable version is not ready: the versions that
 * served the stable share under `previous` (its stable, the versions draining then, its canary: the same
 * order pickVersion tried them in), most recent first. None when the new stable version is ready already, and
 * never a version `next` routes to by its own role or one the registry no longer lists. The list only keeps
 * traffic where it was: pickVersion still skips any of them that is not ready. Inference keeps such versions
 * loaded until the new stable version is ready, and then for its unload drain time.
 */
export function drainingVersions(input: DrainingInput): string[] {
  const { previous, next } = input;
  if (!previous || !next.stable || input.isReady(next.name, next.stable)) return [];
  const candidates = [previous.stable, ...input.previousDraining, previous.canary];
  const kept: string[] = [];
  for (const version of candidates) {
    if (!version || version === next.stable || version === next.canary || !next.manifests.has(version) || kept.includes(version)) continue;
    kept.push(version);
  }
  return kept;
}

/** Whether a rollout or an alias of the table names `ref` (so the mesh serves it and its readiness is tracked). */
export function isReferenced(table: RoutingTable, ref: VersionRef): boolean {
  const route = table.models.get(ref.model);
  return !!route && route.served.includes(ref.version);
}
