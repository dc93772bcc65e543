// Public surface of the model registry: start it in-process (tests, main.ts). The manifest rules it enforces
// are the contract's: validateManifest and friends in @maas/protos.
export { loadConfig, type RegistryConfig } from './config.js';
export { startRegistryService, DATABASE_FILE, type RunningRegistryService, type StartRegistryOptions } from './registry-service.js';
