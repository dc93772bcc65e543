import type { ModelManifest__Output } from '@maas/protos';
import { quote, unavailable, type Logger } from '@maas/shared';
import type { ReadinessTracker } from './readiness.js';
import {
  drainingVersions,
  isReferenced,
  pickVersion,
  referencedVersions,
  resolvePin,
  type RouteDecision,
  type RoutingTable,
  type VersionRef,
} from './router.js';

/** A version the gateway may send traffic to, by the role it has: what maas_gateway_routable_versions shows. */
export interface RoutableVersion {
  model: string;
  version: string;
  role: 'stable' | 'canary' | 'draining';
  /** Whether inference reports it ready, i.e. whether traffic can go to it right now. */
  ready: boolean;
}

export interface RoutingStateOptions {
  readiness: ReadinessTracker;
  logger: Logger;
}

/**
 * The gateway's current routing table (swapped whole on each registry snapshot) joined with the readiness
 * inference reports: what the Classify and OIP handlers ask to route a request.
 *
 * It also remembers, per model, the versions that served the stable share before the last change of stable
 * version (the draining ones): while the new stable version is not ready (a promote or rollback to a version
 * inference is still loading), its share stays on them instead of failing. The first time the new stable
 * version is reported ready they are dropped for good, and inference unloads them after its drain time.
 */
export class RoutingState {
  private table: RoutingTable | undefined;
  /** Draining versions by model, most recent first; a model is absent when it has none. */
  private draining = new Map<string, readonly string[]>();
  private readonly readiness: ReadinessTracker;
  private readonly logger: Logger;

  constructor(options: RoutingStateOptions) {
    this.readiness = options.readiness;
    this.logger = options.logger;
    this.readiness.onChange((ref, ready) => {
      if (ready) this.stableReady(ref);
    });
  }

  /**
   * Installs the table built from a new snapshot (idempotent for a snapshot with the same rollouts), carries
   * the draining versions over (see drainingVersions), and has the readiness tracker watch the versions the
   * rollouts reference and the draining ones. Resolves once each of them has been asked about, so that
   * "snapshot applied" means "routable".
   */
  apply(table: RoutingTable): Promise<void> {
    const previous = this.table;
    const isReady = (model: string, version: string) => this.readiness.isReady(model, version);
    const draining = new Map<string, readonly string[]>();
    for (const route of table.models.values()) {
      const before = this.draining.get(route.name) ?? [];
      const kept = drainingVersions({ previous: previous?.models.get(route.name), previousDraining: before, next: route, isReady });
      if (kept.length > 0) draining.set(route.name, kept);
      if (kept.join('\u0000') !== before.join('\u0000') && kept.length > 0) {
        this.logger.info(
          { model: route.name, stable: route.stable, draining: kept },
          'new stable version not ready yet: its share stays on the draining versions',
        );
      }
    }
    this.table = table;
    this.draining = draining;
    return this.readiness.track(referencedVersions(table), this.drainingRefs());
  }

  /** Whether a registry snapshot has been applied. */
  get loaded(): boolean {
    return this.table !== undefined;
  }

  /** Registry revision of the table in use (0 before the first snapshot). */
  get revision(): number {
    return this.table?.revision ?? 0;
  }

  /** Whether the registry knows `model` (used to keep client-supplied names out of metric labels). */
  knowsModel(model: string): boolean {
    return this.table?.models.has(model) ?? false;
  }

  /**
   * Picks the version of `model` that answers (see pickVersion); UNAVAILABLE before the first snapshot. A
   * `pinned` version label or alias bypasses the rollout (target 'pinned', see explicit).
   */
  route(model: string, routingKey: string, pinned = ''): RouteDecision {
    if (pinned) return { ...this.explicit({ model, version: pinned }), target: 'pinned', fallback: false };
    return pickVersion(this.current(), {
      model,
      routingKey,
      isReady: (m, v) => this.readiness.isReady(m, v),
      draining: this.draining.get(model),
    });
  }

  /**
   * An explicitly named version, by label or alias (resolved to the label): NOT_FOUND when the registry knows
   * neither; UNAVAILABLE when a rollout or alias references it and inference does not report it ready. A version
   * nothing references (a draining one included) is not checked here: inference, which knows what it has
   * loaded, decides.
   */
  explicit(ref: VersionRef): { version: string; manifest: ModelManifest__Output } {
    const table = this.current();
    const pinned = resolvePin(table, ref);
    if (isReferenced(table, { model: ref.model, version: pinned.version }) && !this.readiness.isReady(ref.model, pinned.version)) {
      const named = pinned.version === ref.version ? '' : ` (alias ${quote(ref.version)})`;
      throw unavailable(`version ${quote(pinned.version)}${named} of model ${quote(ref.model)} is not ready`);
    }
    return pinned;
  }

  /**
   * Where a share of `decision`'s traffic is mirrored: the canary, when the decision went to the stable version
   * by the rollout (not a pin, not a fallback), the rollout mirrors, and the canary is ready; else undefined.
   */
  mirrorTarget(model: string, decision: RouteDecision): { version: string; manifest: ModelManifest__Output; percent: number } | undefined {
    if (decision.target !== 'stable' || decision.fallback) return undefined;
    const route = this.table?.models.get(model);
    if (!route || route.mirrorPercent <= 0 || !route.canary || route.stable !== decision.version) return undefined;
    const manifest = route.manifests.get(route.canary);
    if (!manifest || !this.readiness.isReady(model, route.canary)) return undefined;
    return { version: route.canary, manifest, percent: route.mirrorPercent };
  }

  /** Every version the gateway may route to, by role, with its readiness (for metrics). */
  routableVersions(): RoutableVersion[] {
    const versions: RoutableVersion[] = [];
    for (const route of this.table?.models.values() ?? []) {
      const roles: Array<[RoutableVersion['role'], string]> = [
        ['stable', route.stable],
        ['canary', route.canary],
        ...(this.draining.get(route.name) ?? []).map((version): [RoutableVersion['role'], string] => ['draining', version]),
      ];
      for (const [role, version] of roles) {
        if (version) versions.push({ model: route.name, version, role, ready: this.readiness.isReady(route.name, version) });
      }
    }
    return versions;
  }

  /** A version turned ready: when it is its model's stable version, the model's draining versions are done. */
  private stableReady(ref: VersionRef): void {
    const drained = this.draining.get(ref.model);
    if (!drained || this.table?.models.get(ref.model)?.stable !== ref.version) return;
    this.draining.delete(ref.model);
    this.logger.info({ model: ref.model, stable: ref.version, drained }, 'new stable version ready: traffic moves to it');
    this.readiness.retain(this.drainingRefs());
  }

  private drainingRefs(): VersionRef[] {
    return [...this.draining].flatMap(([model, versions]) => versions.map((version) => ({ model, version })));
  }

  private current(): RoutingTable {
    if (!this.table) throw unavailable('the gateway has not read the model registry yet; retry shortly');
    return this.table;
  }
}
