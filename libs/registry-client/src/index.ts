// The registry's client side, for every service that follows the model registry: its events (stream, subjects,
// codecs), the reconcile loop (watch + resync), verified artifact downloads and the rule for a file's digest.
export * from './artifact-download.js';
export * from './registry-consumer-config.js';
export * from './registry-events.js';
export * from './registry-watch.js';
export * from './served-versions.js';
export * from './version-files.js';
