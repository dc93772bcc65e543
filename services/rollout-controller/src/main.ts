// Process entry point: wiring only (see runServiceMain for the exit codes). Run with the telemetry preload:
// node --require ./services/shared/dist/telemetry-preload.js services/rollout-controller/dist/main.js
import { runServiceMain } from '@maas/shared';
import { loadConfig, startRolloutController } from './index.js';

runServiceMain({ service: 'rollout-controller', loadConfig, start: startRolloutController });
