// Process entry point: wiring only (see runServiceMain for the exit codes). Run with the telemetry preload:
// node --require ./services/shared/dist/telemetry-preload.js services/model-registry/dist/main.js
import { runServiceMain } from '@maas/shared';
import { loadConfig, startRegistryService } from './index.js';

runServiceMain({ service: 'model-registry', loadConfig, start: startRegistryService });
