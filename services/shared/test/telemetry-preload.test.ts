// The telemetry preload, loaded the way the services load it (node --require, before @grpc/grpc-js): gRPC is
// instrumented (and trace context propagated) only when traces are exported somewhere.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import test from 'ava';

const PRELOAD = path.resolve(__dirname, '..', 'dist', 'telemetry-preload.js');
/** Prints whether grpc-js' server and client were wrapped by the OpenTelemetry instrumentation. */
const PROBE = `const grpc = require('@grpc/grpc-js'); console.log(JSON.stringify({ server: Boolean(grpc.Server.prototype.register.__wrapped), client: Boolean(grpc.Client.prototype.makeUnaryRequest.__wrapped) }));`;

function instrumented(env: Record<string, string>): { server: boolean; client: boolean } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
  const output = execFileSync(process.execPath, ['--require', PRELOAD, '-e', PROBE], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...clean, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').pop()!) as { server: boolean; client: boolean };
}

test('with no exporter named, gRPC is left alone (no spans, no context propagation, no per-call cost)', (t) => {
  t.deepEqual(instrumented({}), { server: false, client: false });
  t.deepEqual(instrumented({ OTEL_TRACES_EXPORTER: 'none' }), { server: false, client: false });
});

test('an OTLP endpoint or a named trace exporter instruments gRPC', (t) => {
  t.deepEqual(instrumented({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }), { server: true, client: true });
  t.deepEqual(instrumented({ OTEL_TRACES_EXPORTER: 'console' }), { server: true, client: true });
});

test('OTEL_SDK_DISABLED=true leaves gRPC alone even with an exporter named', (t) => {
  t.deepEqual(instrumented({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), { server: false, client: false });
});
