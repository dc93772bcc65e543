import test from 'ava';
import type { RunningGrpcServer } from '../src/grpc-server.js';
import { createLogger } from '../src/logger.js';
import { serviceLifecycle } from '../src/service-lifecycle.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A gRPC server stand-in that records what the lifecycle asks of it into `steps`. */
function recordingServer(steps: string[]): RunningGrpcServer {
  return {
    port: 1234,
    healthPort: -1,
    server: undefined as never,
    setServing: (serving) => void steps.push(serving ? 'SERVING' : 'NOT_SERVING'),
    stop: async ({ graceMs, deadlineMs }) => void steps.push(`server stop (grace ${graceMs}, deadline ${deadlineMs})`),
  };
}

/** A lifecycle over the recording server whose warm-up ends when the test calls `warmedUp`. */
function recordedLifecycle(steps: string[], more: Partial<Parameters<typeof serviceLifecycle>[0]> = {}) {
  let warmedUp!: () => void;
  const warmUp = new Promise<void>((resolve) => (warmedUp = resolve));
  const lifecycle = serviceLifecycle({
    logger,
    server: recordingServer(steps),
    metricsServer: undefined,
    shutdown: { shutdownGraceMs: 0, shutdownDeadlineMs: 0 },
    warmUp,
    ...more,
  });
  return { lifecycle, warmedUp };
}

test('health turns SERVING after warm-up, and stop runs every part once, in the one order', async (t) => {
  const steps: string[] = [];
  const { lifecycle, warmedUp } = recordedLifecycle(steps, {
    metricsServer: { port: 5678, close: async () => void steps.push('metrics') },
    shutdown: { shutdownGraceMs: 10, shutdownDeadlineMs: 20 },
    onServing: () => steps.push('ready'),
    // Given in another order than they run: the lifecycle, not the service, decides the order.
    storage: [() => void steps.push('storage')],
    clients: [{ close: () => void steps.push('client') }],
    eventBuses: [{ close: async () => void steps.push('nats') }],
    work: [async () => void steps.push('work')],
    watches: [{ stop: () => void steps.push('watch') }],
  });
  t.deepEqual([lifecycle.port, lifecycle.metricsPort, lifecycle.serving], [1234, 5678, false]);
  warmedUp();
  await lifecycle.ready;
  t.true(lifecycle.serving);
  await Promise.all([lifecycle.stop(), lifecycle.stop()]);
  t.false(lifecycle.serving);
  t.deepEqual(steps, ['SERVING', 'ready', 'server stop (grace 10, deadline 20)', 'watch', 'work', 'nats', 'client', 'metrics', 'storage']);
});

test('a service stopped during warm-up never turns SERVING', async (t) => {
  const steps: string[] = [];
  const { lifecycle, warmedUp } = recordedLifecycle(steps);
  t.is(lifecycle.metricsPort, -1);
  await lifecycle.stop();
  warmedUp();
  await lifecycle.ready;
  t.false(lifecycle.serving);
  t.deepEqual(steps, ['server stop (grace 0, deadline 0)']);
});
