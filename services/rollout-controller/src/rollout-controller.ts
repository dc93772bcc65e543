/**
 * The control loop: every RESYNC_INTERVAL_MS (and soon after a document changes) each ModelRollout is
 * reconciled, one reconcile per document at a time (a quality gate may take seconds; other rollouts go on
 * meanwhile). The status is written when it changed, then the reconcile's events are recorded.
 */
import type { Logger } from '@maas/shared';
import type * as client from 'prom-client';
import type { ModelRolloutDocument } from './model-rollout.js';
import type { RolloutReconciler } from './rollout-reconciler.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';

export interface ControlLoopMetrics {
  reconciles: client.Counter<'result'>;
  phase: client.Gauge<'rollout' | 'model' | 'phase'>;
  weight: client.Gauge<'rollout' | 'model'>;
}

export class RolloutControlLoop {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private active = false;
  private soon: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      store: RolloutStore;
      reconciler: RolloutReconciler;
      resyncIntervalMs: number;
      logger: Logger;
      metrics: ControlLoopMetrics;
    },
  ) {
    options.store.onChange(() => this.kick());
  }

  /** Starts reconciling (also what a replica does when it becomes the leader). */
  start(): void {
    if (this.active) return;
    this.active = true;
    const tick = () => {
      void this.reconcileAll();
      this.timer = setTimeout(tick, this.options.resyncIntervalMs);
    };
    tick();
  }

  /** Stops starting reconciles and waits for those in flight. */
  async pause(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    clearTimeout(this.soon);
    await Promise.all(this.inFlight.values());
  }

  /** A document changed: reconcile soon (coalescing a burst of changes). */
  private kick(): void {
    if (!this.active || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.reconcileAll();
    }, 50);
  }

  /** Reconciles every document once (those already being reconciled are left to finish). */
  async reconcileAll(): Promise<void> {
    let docs: ModelRolloutDocument[];
    try {
      docs = await this.options.store.list();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'cannot list ModelRollouts');
      return;
    }
    await Promise.all(docs.map((doc) => this.reconcileOne(doc)));
  }

  private reconcileOne(doc: ModelRolloutDocument): Promise<void> {
    const name = doc.metadata.name;
    const running = this.inFlight.get(name);
    if (running) return running;
    const work = this.run(doc).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, work);
    return work;
  }

  private async run(doc: ModelRolloutDocument): Promise<void> {
    const { store, reconciler, logger, metrics } = this.options;
    const events: RolloutEvent[] = [];
    const labels = { rollout: doc.metadata.name, model: doc.spec.model };
    try {
      const status = await reconciler.reconcile(doc, (event) => {
        events.push(event);
        logger.info({ rollout: doc.metadata.name, model: doc.spec.model, event: event.reason }, event.message);
      });
      if (JSON.stringify(status) !== JSON.stringify(doc.status ?? {})) await store.writeStatus(doc, status);
      for (const event of events) await store.recordEvent(doc, event);
      metrics.reconciles.inc({ result: 'ok' });
      for (const phase of ['Progressing', 'Paused', 'Promoted', 'RolledBack', 'Failed'])
        metrics.phase.set({ ...labels, phase }, status.phase === phase ? 1 : 0);
      metrics.weight.set(labels, status.weight ?? 0);
    } catch (error) {
      metrics.reconciles.inc({ result: 'error' });
      logger.warn({ err: error, rollout: doc.metadata.name }, 'reconcile failed; retrying at the next resync');
      for (const event of events) await store.recordEvent(doc, event).catch(() => undefined);
    }
  }
}
