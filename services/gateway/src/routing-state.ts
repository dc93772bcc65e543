import type { ModelManifest__Output } from '@maas/protos';
import { unavailable } from '@maas/shared';
import type { ReadinessTracker } from './readiness.js';
import { isReferenced, lookupVersion, pickVersion, type RouteDecision, type RoutingTable, type VersionRef } from './router.js';

/**
 * The gateway's current routing table (swapped whole on each registry snapshot) joined with the readiness
 * inference reports: what the Classify and OIP handlers ask to route a request.
 */
export class RoutingState {
  private table: RoutingTable | undefined;

  constructor(private readonly readiness: ReadinessTracker) {}

  /** Installs the table built from a new snapshot. */
  apply(table: RoutingTable): void {
    this.table = table;
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

  /** Picks the version of `model` that answers (see pickVersion); UNAVAILABLE before the first snapshot. */
  route(model: string, routingKey: string): RouteDecision {
    return pickVersion(this.current(), { model, routingKey, isReady: (m, v) => this.readiness.isReady(m, v) });
  }

  /**
   * An explicitly named version: NOT_FOUND when the registry does not know it; UNAVAILABLE when a rollout
   * references it and inference does not report it ready. A version no rollout references is not tracked,
   * so inference, which knows what it has loaded, decides.
   */
  explicit(ref: VersionRef): ModelManifest__Output {
    const table = this.current();
    const manifest = lookupVersion(table, ref);
    if (isReferenced(table, ref) && !this.readiness.isReady(ref.model, ref.version)) {
      throw unavailable(`version ${JSON.stringify(ref.version)} of model ${JSON.stringify(ref.model)} is not ready`);
    }
    return manifest;
  }

  private current(): RoutingTable {
    if (!this.table) throw unavailable('the gateway has not read the model registry yet; retry shortly');
    return this.table;
  }
}
