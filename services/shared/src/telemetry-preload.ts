/**
 * OpenTelemetry preload: `node --require ./services/shared/dist/telemetry-preload.js services/<svc>/dist/main.js`.
 * It must run before the app loads @grpc/grpc-js so the gRPC instrumentation can patch it (services compile
 * to CommonJS for exactly this). Configured by the standard OTEL_* variables; maas only changes defaults:
 * traces go nowhere unless an exporter or OTLP endpoint is named (a laptop has no collector), and metrics are
 * served by each service's own Prometheus endpoint rather than pushed.
 *
 * When nothing is exported (the default), the SDK is not started and gRPC is not instrumented at all: the
 * instrumentation and the async-context manager cost every call and every hop CPU even when each span is a
 * no-op (measured: ~9% of the gateway's profile at 1 call in flight), for traces nobody receives. The
 * OpenTelemetry API then stays the no-op one, so the services' own spans cost next to nothing, and no trace
 * context is propagated between the services. Name an exporter (OTEL_TRACES_EXPORTER, or an OTLP endpoint)
 * and every hop is traced and propagated again.
 *
 * gRPC spans are named as the RPC semantic conventions say (`maas.v1.Gateway/Classify`, without the
 * instrumentation's `grpc.` prefix); health checks and reflection are not traced (probes every few seconds
 * would bury the traffic). Every span's resource names the service's `service.version` (its package.json) and
 * `deployment.environment` (DEPLOYMENT_ENVIRONMENT); OTEL_RESOURCE_ATTRIBUTES overrides either, and adds the
 * pod, node and namespace in Kubernetes (k8s/base/pod-defaults.yaml).
 */
import path from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import { packageVersion } from './package-version.js';
import { TELEMETRY_SDK_KEY } from './telemetry.js';

const env = process.env;
const otlpConfigured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
env.OTEL_TRACES_EXPORTER ??= otlpConfigured ? 'otlp' : 'none';
env.OTEL_METRICS_EXPORTER ??= 'none';
env.OTEL_LOGS_EXPORTER ??= 'none';
// services/<name>/dist/main.js → maas-<name>, when the deployment did not name the service.
const serviceDir = path.resolve(path.dirname(process.argv[1] ?? '.'), '..');
env.OTEL_SERVICE_NAME ??= `maas-${path.basename(serviceDir)}`;

/** `grpc.maas.v1.Gateway/Classify` (the instrumentation's name) → `maas.v1.Gateway/Classify` (the convention's). */
export function rpcSpanName(name: string): string {
  return name.startsWith('grpc.') ? name.slice('grpc.'.length) : name;
}

/** A tracer that starts spans under their semantic-convention names; everything else is the wrapped one. */
function conventionNamedTracer(tracer: Tracer): Tracer {
  return {
    startSpan: (name, options, ctx) => tracer.startSpan(rpcSpanName(name), options, ctx),
    startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
  };
}

/** The gRPC instrumentation with convention span names (it asks its `tracer` for every span it starts). */
class ConventionGrpcInstrumentation extends GrpcInstrumentation {
  private named: { from: Tracer; to: Tracer } | undefined;

  protected override get tracer(): Tracer {
    const tracer = super.tracer;
    if (this.named?.from !== tracer) this.named = { from: tracer, to: conventionNamedTracer(tracer) };
    return this.named.to;
  }
}

/** Whether an OTEL_*_EXPORTER list names anything besides "none". */
const namesExporter = (value: string | undefined) => (value ?? '').split(',').some((name) => name.trim() !== '' && name.trim() !== 'none');
const disabled = (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';
const tracing = !disabled && namesExporter(env.OTEL_TRACES_EXPORTER);

if (!disabled && (tracing || namesExporter(env.OTEL_METRICS_EXPORTER) || namesExporter(env.OTEL_LOGS_EXPORTER))) {
  const sdk = new NodeSDK({
    // Merged under what the environment detector reads (OTEL_RESOURCE_ATTRIBUTES wins).
    resource: resources.defaultResource().merge(
      resources.resourceFromAttributes({
        'service.version': packageVersion(serviceDir),
        'deployment.environment': env.DEPLOYMENT_ENVIRONMENT || 'development',
      }),
    ),
    instrumentations: tracing ? [new ConventionGrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch', 'ServerReflectionInfo'] })] : [],
  });
  sdk.start();
  (globalThis as Record<symbol, unknown>)[TELEMETRY_SDK_KEY] = sdk;
}
