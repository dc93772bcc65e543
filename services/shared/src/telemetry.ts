/** Where the preload leaves its SDK, so the app can flush it at stop without importing the SDK itself. */
export const TELEMETRY_SDK_KEY = Symbol.for('maas.telemetry.sdk');

/** Flushes and stops telemetry (a no-op when the preload was not used, as in tests). */
export async function shutdownTelemetry(): Promise<void> {
  const sdk = (globalThis as Record<symbol, { shutdown(): Promise<void> } | undefined>)[TELEMETRY_SDK_KEY];
  await sdk?.shutdown().catch(() => undefined);
}
