// The rollout controller's own metrics (beside the shared gRPC ones): what its reconciles, analyses, quality
// gates and registry conflicts did, and where each ModelRollout stands.
import * as client from 'prom-client';

/** Creates the controller's metrics in `registry`: counters for the reconciler, gauges for the control loop. */
export function createRolloutMetrics(registry: client.Registry) {
  const registers = [registry];
  const counters = {
    conflicts: new client.Counter({
      name: 'maas_rollout_registry_conflicts_total',
      help: 'Registry rollout writes refused for a stale expected_revision (each followed by a fresh read)',
      labelNames: ['model'],
      registers,
    }),
    analyses: new client.Counter({
      name: 'maas_rollout_analyses_total',
      help: 'Analysis windows judged, by result (Passed, Failed, Inconclusive)',
      labelNames: ['model', 'result'],
      registers,
    }),
    gates: new client.Counter({ name: 'maas_rollout_quality_gates_total', help: 'Quality gates run, by result', labelNames: ['model', 'result'], registers }),
  };
  const loopMetrics = {
    reconciles: new client.Counter({
      name: 'maas_rollout_reconciles_total',
      help: 'ModelRollout reconciles, by result (ok, error)',
      labelNames: ['result'],
      registers,
    }),
    phase: new client.Gauge({
      name: 'maas_rollout_phase',
      help: '1 for the phase each ModelRollout is in, 0 for the others',
      labelNames: ['rollout', 'model', 'phase'],
      registers,
    }),
    weight: new client.Gauge({
      name: 'maas_rollout_canary_weight_percent',
      help: 'Canary weight each ModelRollout has reached',
      labelNames: ['rollout', 'model'],
      registers,
    }),
  };
  return { counters, loopMetrics };
}
