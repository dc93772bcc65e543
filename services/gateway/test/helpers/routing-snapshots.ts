/** Registry snapshots (ListModels answers) built by hand, for tests of the routing table and state. */
import type { ListModelsResponse__Output, ModelManifest__Output } from '@maas/protos';

export function manifest(name: string, version: string): ModelManifest__Output {
  return {
    format_version: 1,
    name,
    version,
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    description: '',
    model_file: 'model.onnx',
    inputs: [],
    outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1], role: '' }],
    tokenizer: null,
    labels: ['negative', 'positive'],
    output_activation: 'none',
    files: [],
    metrics: {},
    evaluation_file: '',
  };
}

export interface ModelEntry {
  model: string;
  versions: string[];
  stable?: string;
  canary?: string;
  weight?: number;
  /** Percent of stable's traffic mirrored to the canary. */
  mirror?: number;
  /** Alias name → version. */
  aliases?: Record<string, string>;
}

export function snapshot(rollouts: ModelEntry[], revision = 7): ListModelsResponse__Output {
  return {
    revision,
    models: rollouts.map((entry) => ({
      name: entry.model,
      versions: entry.versions.map((version) => ({
        model: entry.model,
        version,
        manifest: manifest(entry.model, version),
        artifacts: [],
        created_at: '',
        revision: 1,
      })),
      rollout: {
        model: entry.model,
        stable_version: entry.stable ?? '',
        canary_version: entry.canary ?? '',
        canary_weight: entry.weight ?? 0,
        mirror_percent: entry.mirror ?? 0,
        revision: 1,
        updated_at: '',
      },
      aliases: Object.entries(entry.aliases ?? {}).map(([name, version]) => ({ name, version, revision: 1, updated_at: '' })),
    })),
  };
}
