/**
 * OpenTelemetry preload: `node --require ./services/shared/dist/telemetry-preload.js services/<svc>/dist/main.js`.
 * It must run before the app loads @grpc/grpc-js so the gRPC instrumentation can patch it (services compile
 * to CommonJS for exactly this). Configured by the standard OTEL_* variables; maas only changes defaults:
 * traces go nowhere unless an exporter or OTLP endpoint is named (a laptop has no collector), and metrics are
 * served by each service's own Prometheus endpoint rather than pushed.
 */
import path from 'node:path';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { TELEMETRY_SDK_KEY } from './telemetry.js';

const env = process.env;
const otlpConfigured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
env.OTEL_TRACES_EXPORTER ??= otlpConfigured ? 'otlp' : 'none';
env.OTEL_METRICS_EXPORTER ??= 'none';
env.OTEL_LOGS_EXPORTER ??= 'none';
// services/<name>/dist/main.js → maas-<name>, when the deployment did not name the service.
env.OTEL_SERVICE_NAME ??= `maas-${path.basename(path.resolve(path.dirname(process.argv[1] ?? '.'), '..'))}`;

const sdk = new NodeSDK({ instrumentations: [new GrpcInstrumentation()] });
sdk.start();
(globalThis as Record<symbol, unknown>)[TELEMETRY_SDK_KEY] = sdk;
