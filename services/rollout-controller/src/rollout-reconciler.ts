/**
 * One reconcile of one ModelRollout: read the registry (the source of truth), resolve stable and candidate
 * (labels or aliases), handle a requested action (promote, abort, resume), then drive the current step and
 * write the registry's rollout with the revision just read. Returns the new status; the events it records
 * say what happened. Waiting steps (a timed pause, an analysis window) return at once and are looked at again
 * on the next tick, so one slow rollout never holds up another.
 */
import { Status, type GatewayClient, type ModelRegistryClient } from '@maas/protos';
import type { Logger } from '@maas/shared';
import { judgeWindow, type AnalysisWindow, type MetricsSource } from './analysis.js';
import {
  DEFAULT_INTERVAL,
  DEFAULT_QUALITY_GATE,
  DEFAULT_THRESHOLDS,
  parseDuration,
  requestedAction,
  stepKind,
  type AnalysisRecord,
  type Condition,
  type ModelRolloutDocument,
  type ModelRolloutStatus,
  type RolloutPhase,
} from './model-rollout.js';
import { runQualityGate } from './quality-gate.js';
import { getModel, resolveVersion, writeRollout, type DesiredRollout } from './registry-rollout-writer.js';
import type { RolloutEvent } from './rollout-store.js';

export interface ReconcilerMetrics {
  registryConflicts(model: string, count: number): void;
  analysis(model: string, result: AnalysisRecord['result']): void;
  qualityGate(model: string, result: 'Passed' | 'Failed'): void;
}

export interface ReconcilerOptions {
  registry: ModelRegistryClient;
  gateway: GatewayClient;
  metrics: MetricsSource;
  logger: Logger;
  /** Deadline of each registry call, and of a whole quality gate evaluation (ms). */
  requestTimeoutMs: number;
  qualityGateTimeoutMs: number;
  counters: ReconcilerMetrics;
}

interface OpenWindow {
  key: string;
  window: AnalysisWindow;
  inconclusive: number;
}

export class RolloutReconciler {
  /** Analysis windows in progress, by document: lost at a restart, which only restarts the window. */
  private readonly windows = new Map<string, OpenWindow>();

  constructor(private readonly options: ReconcilerOptions) {}

  forget(name: string): void {
    this.windows.delete(name);
  }

  async reconcile(doc: ModelRolloutDocument, record: (event: RolloutEvent) => void): Promise<ModelRolloutStatus> {
    const { spec } = doc;
    const now = new Date();
    const generation = doc.metadata.generation ?? 0;
    const status: ModelRolloutStatus = structuredClone(doc.status ?? {});
    status.observedGeneration = generation;
    const setPhase = (phase: RolloutPhase, message: string) => {
      status.phase = phase;
      status.message = message;
      setCondition(status, { type: 'Progressing', status: phase === 'Progressing' ? 'True' : 'False', reason: phase, message }, generation, now);
      setCondition(
        status,
        {
          type: 'Paused',
          status: phase === 'Paused' ? 'True' : 'False',
          reason: phase === 'Paused' ? 'Paused' : 'NotPaused',
          message: phase === 'Paused' ? message : '',
        },
        generation,
        now,
      );
      setCondition(
        status,
        { type: 'Promoted', status: phase === 'Promoted' ? 'True' : 'False', reason: phase, message: phase === 'Promoted' ? message : '' },
        generation,
        now,
      );
      setCondition(
        status,
        { type: 'RolledBack', status: phase === 'RolledBack' ? 'True' : 'False', reason: phase, message: phase === 'RolledBack' ? message : '' },
        generation,
        now,
      );
    };

    let model;
    try {
      model = await getModel(this.options.registry, spec.model, this.options.requestTimeoutMs);
    } catch (error) {
      if ((error as { code?: number }).code !== Status.NOT_FOUND) throw error;
      if (status.phase !== 'Failed') record({ type: 'Warning', reason: 'ModelNotFound', message: `the registry has no model ${spec.model}` });
      setPhase('Failed', `the registry has no model ${JSON.stringify(spec.model)}`);
      return status;
    }
    const stable = resolveVersion(model, spec.stable);
    const candidate = resolveVersion(model, spec.candidate);
    if (!stable || !candidate) {
      const missing = !stable ? `stable ${JSON.stringify(spec.stable)}` : `candidate ${JSON.stringify(spec.candidate)}`;
      if (status.phase !== 'Failed') record({ type: 'Warning', reason: 'VersionNotFound', message: `${spec.model} has no version or alias ${missing}` });
      setPhase('Failed', `${spec.model} has no version or alias ${missing}`);
      return status;
    }
    status.registryRevision = Number(model.rollout?.revision ?? 0);

    // A new stable/candidate pair (or a first look) starts the strategy from its first step.
    // So does a changed spec of a finished rollout (the same pair tried again with other steps); a changed spec
    // of a running one (spec.paused, thresholds) applies from where it is.
    const finished = status.phase === 'Promoted' || status.phase === 'RolledBack' || status.phase === 'Failed';
    const newGeneration = doc.status?.observedGeneration !== undefined && doc.status.observedGeneration !== generation;
    if (status.stableVersion !== stable || status.candidateVersion !== candidate || !status.phase || (finished && newGeneration)) {
      Object.assign(status, {
        stableVersion: stable,
        candidateVersion: candidate,
        currentStepIndex: 0,
        stepStartedAt: now.toISOString(),
        weight: 0,
        mirrorPercent: 0,
      });
      delete status.lastAnalysis;
      delete status.lastQualityGate;
      this.windows.delete(doc.metadata.name);
      setPhase('Progressing', `rolling out ${candidate} over ${stable}`);
      record({ type: 'Normal', reason: 'RolloutStarted', message: `candidate ${candidate} over stable ${stable}, ${spec.steps.length} steps` });
    }

    const ready = await this.options.metrics.readiness(spec.model).catch((error: Error) => {
      this.options.logger.warn({ err: error, model: spec.model }, 'cannot read version readiness from the metrics');
      return new Map<string, boolean>();
    });
    status.versions = [
      { version: stable, role: 'stable', ready: ready.get(stable) ?? false },
      { version: candidate, role: 'candidate', ready: ready.get(candidate) ?? false },
    ];

    const write = async (desired: DesiredRollout) => {
      const result = await writeRollout({
        registry: this.options.registry,
        model: spec.model,
        desired,
        knownRevision: status.registryRevision ?? 0,
        deadlineMs: this.options.requestTimeoutMs,
      });
      if (result.conflicts > 0) {
        this.options.counters.registryConflicts(spec.model, result.conflicts);
        record({
          type: 'Normal',
          reason: 'RegistryConflict',
          message: `the registry's rollout changed since revision ${status.registryRevision}; read it again and wrote revision ${result.rollout.revision}`,
        });
      }
      status.registryRevision = Number(result.rollout.revision);
    };
    const promote = async (message: string) => {
      await write({ stable: candidate, canary: '', weight: 0, mirror: 0 });
      Object.assign(status, { weight: 100, mirrorPercent: 0 });
      this.windows.delete(doc.metadata.name);
      setPhase('Promoted', message);
      record({ type: 'Normal', reason: 'Promoted', message });
    };
    const rollBack = async (reason: string, message: string) => {
      await write({ stable, canary: '', weight: 0, mirror: 0 });
      Object.assign(status, { weight: 0, mirrorPercent: 0 });
      this.windows.delete(doc.metadata.name);
      setPhase('RolledBack', message);
      record({ type: 'Warning', reason, message });
    };
    const fail = async (reason: string, message: string) => {
      if ((spec.onFailure ?? 'rollback') === 'rollback') return rollBack(reason, `${message}; rolled back to ${stable}`);
      // onFailure: pause — the candidate keeps being served (so it can be looked at) but takes no traffic.
      await write({ stable, canary: candidate, weight: 0, mirror: 0 });
      Object.assign(status, { weight: 0, mirrorPercent: 0 });
      this.windows.delete(doc.metadata.name);
      setPhase('Paused', `${message}; paused with the candidate at 0 % (resume retries the step, abort rolls back)`);
      record({ type: 'Warning', reason, message });
    };

    const action = requestedAction(doc);
    if (action && action.raw !== status.handledAction) {
      status.handledAction = action.raw;
      if (status.phase === 'Progressing' || status.phase === 'Paused') {
        if (action.action === 'promote') {
          await promote(`promoted ${candidate} by request`);
          return status;
        }
        if (action.action === 'abort') {
          await rollBack('Aborted', `aborted by request; rolled back to ${stable}`);
          return status;
        }
        if (status.phase === 'Paused' && !spec.paused) {
          const step = spec.steps[status.currentStepIndex ?? 0];
          // Resuming a pause step moves past it; resuming after a failure tries the failed step again.
          if (step && stepKind(step) === 'pause') status.currentStepIndex = (status.currentStepIndex ?? 0) + 1;
          status.stepStartedAt = now.toISOString();
          setPhase('Progressing', `resumed by request`);
          record({ type: 'Normal', reason: 'Resumed', message: `resumed at step ${status.currentStepIndex}` });
        }
      }
    }

    if (status.phase === 'Promoted' || status.phase === 'RolledBack' || status.phase === 'Failed') return status;
    if (spec.paused) {
      if (status.phase !== 'Paused') {
        setPhase('Paused', 'spec.paused is true');
        record({ type: 'Normal', reason: 'Paused', message: 'paused (spec.paused)' });
      }
      return status;
    }
    if (status.phase === 'Paused') {
      // Paused by spec before, and the spec now says go on.
      if (status.message === 'spec.paused is true') setPhase('Progressing', 'spec.paused is false');
      else return status;
    }

    // The registry is made to match what the strategy has reached so far (the controller owns the rollout).
    await write({ stable, canary: candidate, weight: status.weight ?? 0, mirror: status.mirrorPercent ?? 0 });

    const thresholdsOf = (overrides: object | undefined) => ({ ...DEFAULT_THRESHOLDS, ...spec.analysis, ...overrides });
    const advance = () => {
      status.currentStepIndex = (status.currentStepIndex ?? 0) + 1;
      status.stepStartedAt = new Date().toISOString();
      this.windows.delete(doc.metadata.name);
    };
    for (;;) {
      const index = status.currentStepIndex ?? 0;
      const step = spec.steps[index];
      if (!step) {
        await promote(`every step passed; ${candidate} is the stable version`);
        return status;
      }
      if ('setWeight' in step || 'mirror' in step) {
        const desired = { weight: status.weight ?? 0, mirror: status.mirrorPercent ?? 0 };
        if ('setWeight' in step) desired.weight = step.setWeight;
        else desired.mirror = step.mirror;
        await write({ stable, canary: candidate, ...desired });
        Object.assign(status, { weight: desired.weight, mirrorPercent: desired.mirror });
        record({
          type: 'Normal',
          reason: 'setWeight' in step ? 'WeightSet' : 'MirrorSet',
          message: `step ${index}: candidate ${candidate} at ${desired.weight} % of traffic, ${desired.mirror} % of stable's mirrored`,
        });
        advance();
        continue;
      }
      if ('pause' in step) {
        if (step.pause.duration === undefined) {
          setPhase('Paused', `step ${index}: paused until resumed`);
          record({ type: 'Normal', reason: 'Paused', message: `step ${index}: paused until resumed` });
          return status;
        }
        const until = new Date(status.stepStartedAt ?? now).getTime() + parseDuration(step.pause.duration);
        if (Date.now() < until) return status;
        advance();
        continue;
      }
      if ('analysis' in step) {
        const thresholds = thresholdsOf(step.analysis);
        const key = `${index}:${stable}:${candidate}`;
        let open = this.windows.get(doc.metadata.name);
        if (!open || open.key !== key) {
          open = { key, window: await this.options.metrics.begin({ model: spec.model, stable, candidate }), inconclusive: 0 };
          this.windows.set(doc.metadata.name, open);
          return status;
        }
        if (Date.now() - open.window.startedAt.getTime() < parseDuration(spec.interval ?? DEFAULT_INTERVAL) * (open.inconclusive + 1)) return status;
        const figures = await open.window.figures();
        let verdict = judgeWindow(figures, thresholds, { mirroring: (status.mirrorPercent ?? 0) > 0 });
        if (verdict.result === 'Inconclusive') {
          open.inconclusive += 1;
          // Too little traffic for too long is a failure: a candidate nobody could judge is not promoted.
          if (open.inconclusive >= thresholds.maxInconclusive)
            verdict = { result: 'Failed', failures: [...verdict.failures, `inconclusive ${open.inconclusive} windows in a row`] };
        }
        status.lastAnalysis = { step: index, startedAt: open.window.startedAt.toISOString(), finishedAt: new Date().toISOString(), ...figures, ...verdict };
        this.options.counters.analysis(spec.model, verdict.result);
        setCondition(
          status,
          {
            type: 'AnalysisPassed',
            status: verdict.result === 'Passed' ? 'True' : verdict.result === 'Failed' ? 'False' : 'Unknown',
            reason: `Analysis${verdict.result}`,
            message: verdict.failures.join('; ') || 'every threshold met',
          },
          generation,
          now,
        );
        if (verdict.result === 'Inconclusive') return status;
        if (verdict.result === 'Failed') {
          await fail('AnalysisFailed', `step ${index}: analysis failed: ${verdict.failures.join('; ')}`);
          return status;
        }
        record({
          type: 'Normal',
          reason: 'AnalysisPassed',
          message: `step ${index}: ${figures.candidate.requests} candidate requests, error ratio ${figures.candidate.errorRatio.toFixed(4)}${figures.agreement === undefined ? '' : `, agreement ${figures.agreement.toFixed(4)}`}`,
        });
        advance();
        continue;
      }
      // qualityGate: needs the candidate served (it is: the canary at weight 0 is loaded) and ready.
      if (!status.versions.every((version) => version.ready)) {
        status.message = `step ${index}: quality gate waits for ${candidate} and ${stable} to be ready`;
        return status;
      }
      let gate;
      try {
        gate = await runQualityGate({
          registry: this.options.registry,
          gateway: this.options.gateway,
          model: spec.model,
          stable,
          candidate,
          thresholds: { ...DEFAULT_QUALITY_GATE, ...spec.qualityGate, ...step.qualityGate },
          step: index,
          deadlineMs: this.options.qualityGateTimeoutMs,
        });
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === Status.FAILED_PRECONDITION && /evaluation/.test((error as Error).message)) {
          await fail('QualityGateFailed', `step ${index}: ${(error as Error).message}`);
          return status;
        }
        // UNAVAILABLE while a version turns ready, a deadline: try again next tick.
        status.message = `step ${index}: quality gate could not run yet: ${(error as Error).message}`;
        return status;
      }
      status.lastQualityGate = gate;
      this.options.counters.qualityGate(spec.model, gate.result);
      setCondition(
        status,
        {
          type: 'QualityGatePassed',
          status: gate.result === 'Passed' ? 'True' : 'False',
          reason: `QualityGate${gate.result}`,
          message: gate.failures.join('; ') || `${gate.texts} texts, F1 ${gate.candidate.f1.toFixed(4)} vs ${gate.stable.f1.toFixed(4)}`,
        },
        generation,
        now,
      );
      if (gate.result === 'Failed') {
        await fail('QualityGateFailed', `step ${index}: quality gate failed: ${gate.failures.join('; ')}`);
        return status;
      }
      record({
        type: 'Normal',
        reason: 'QualityGatePassed',
        message: `step ${index}: ${gate.texts} texts, accuracy ${gate.candidate.accuracy.toFixed(4)} vs ${gate.stable.accuracy.toFixed(4)}, F1 ${gate.candidate.f1.toFixed(4)} vs ${gate.stable.f1.toFixed(4)}`,
      });
      advance();
    }
  }
}

/** Sets a condition the Kubernetes way: lastTransitionTime moves only when its status changes. */
export function setCondition(
  status: ModelRolloutStatus,
  condition: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>,
  generation: number,
  now: Date,
): void {
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((entry) => entry.type === condition.type);
  const lastTransitionTime = existing && existing.status === condition.status ? existing.lastTransitionTime : now.toISOString();
  const next = { ...condition, lastTransitionTime, observedGeneration: generation };
  if (existing) Object.assign(existing, next);
  else conditions.push(next);
}
