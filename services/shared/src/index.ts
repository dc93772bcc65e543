// Runtime plumbing shared by every service: no domain logic lives here.
export * from './artifact-download.js';
export * from './available-cpus.js';
export * from './config.js';
export * from './errors.js';
export * from './events.js';
export * from './grpc-client.js';
export * from './grpc-server.js';
export * from './handlers.js';
export * from './input-limits.js';
export * from './logger.js';
export * from './metrics.js';
export * from './registry-watch.js';
export * from './service-main.js';
export * from './shutdown.js';
export * from './telemetry.js';
