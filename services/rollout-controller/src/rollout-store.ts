/**
 * Where ModelRollout documents live and where their status and events go: the Kubernetes API in a cluster
 * (kube-rollout-store.ts), a folder of YAML files locally (local-rollout-store.ts). The reconciler is the same.
 */
import type { ModelRolloutDocument, ModelRolloutStatus } from './model-rollout.js';

export interface RolloutEvent {
  /** Kubernetes event types. */
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. WeightSet, AnalysisFailed. */
  reason: string;
  message: string;
}

export interface RolloutStore {
  /** The documents now, with their status. */
  list(): Promise<ModelRolloutDocument[]>;
  /** Replaces the document's status (a fresh read and retry inside when the document changed meanwhile). */
  writeStatus(doc: ModelRolloutDocument, status: ModelRolloutStatus): Promise<void>;
  /** Records an event about the document (a Kubernetes Event; locally beside its status). */
  recordEvent(doc: ModelRolloutDocument, event: RolloutEvent): Promise<void>;
  /** Calls `listener` when a document changes, so that it is reconciled before the next resync. */
  onChange(listener: () => void): void;
  /** Stops watching. */
  stop(): void;
}
