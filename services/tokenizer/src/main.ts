// Process entry point: wiring only (see runServiceMain for the exit codes). Run with the telemetry preload:
// node --require ./services/shared/dist/telemetry-preload.js services/tokenizer/dist/main.js
import { runServiceMain } from '@maas/shared';
import { loadConfig, startTokenizerService } from './index.js';

runServiceMain({ service: 'tokenizer', loadConfig, start: startTokenizerService });
