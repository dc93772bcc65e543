// Public surface of the model registry: start it in-process (tests, main.ts) and its pure manifest rules.
export { loadConfig, type RegistryConfig } from './config.js';
export { startRegistryService, DATABASE_FILE, type RunningRegistry, type StartRegistryOptions } from './registry-service.js';
export * from './manifest-validation.js';
