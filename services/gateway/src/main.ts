// Process entry point: wiring only (see runServiceMain for the exit codes). Run with the telemetry preload:
// node --require ./services/shared/dist/telemetry-preload.js services/gateway/dist/main.js
import { runServiceMain } from '@maas/shared';
import { loadConfig, startGatewayService } from './index.js';

runServiceMain({ service: 'gateway', loadConfig, start: startGatewayService });
