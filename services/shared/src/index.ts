// Runtime plumbing shared by every service: no domain logic lives here (the registry's client side is in
// @maas/registry-client).
export * from './api-key-file.js';
export * from './config.js';
export * from './errors.js';
export * from './events.js';
export * from './free-port.js';
export * from './grpc-client.js';
export * from './grpc-server.js';
export * from './handlers.js';
export * from './input-limits.js';
export * from './logger.js';
export * from './metrics.js';
export * from './local-pki.js';
export * from './package-version.js';
export * from './redact.js';
export * from './peer-identity.js';
export * from './service-lifecycle.js';
export * from './service-main.js';
export * from './service-ports.js';
export * from './shutdown.js';
export * from './telemetry.js';
export * from './tls-credentials.js';
export * from './undecodable-requests.js';
