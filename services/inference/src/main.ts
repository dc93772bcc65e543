// Process entry point: wiring only (see runServiceMain for the exit codes). Run with the telemetry preload:
// node --require ./services/shared/dist/telemetry-preload.js services/inference/dist/main.js
import { runServiceMain } from '@maas/shared';
import { loadConfig, startInferenceService } from './index.js';

runServiceMain({ service: 'inference', loadConfig, start: startInferenceService });
