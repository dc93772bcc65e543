/**
 * baseline: a bare grpc-js echo server in its own process, 64 unary calls in flight, each carrying exactly the
 * bytes of a single-text Classify request. The ceiling this machine allows a unary gRPC service with this load
 * generator beside it. (Benchmarks compared with it also re-measure it before each of their windows; see
 * harness/echo-baseline.ts.)
 */
import { measureVariant, type Benchmark, type VariantResult } from './harness/benchmark.js';
import { BASELINE_CONCURRENCY } from './harness/echo-baseline.js';

export const baseline: Benchmark = {
  name: 'baseline',
  title: 'bare grpc-js echo server (own process), Classify-sized unary requests, 64 in flight',
  async run(context): Promise<VariantResult[]> {
    const echo = await context.echo();
    return [
      await measureVariant(context, {
        benchmark: 'baseline',
        variant: 'grpc-js echo',
        env: {},
        target: 'echo',
        address: echo.address,
        pids: { echo: echo.pid },
        ...(echo.profileDir ? { profileDir: echo.profileDir } : {}),
        requests: echo.requests,
        concurrency: BASELINE_CONCURRENCY,
        itemsPerRequest: 1,
        itemName: 'request',
        warmedUp: true,
      }),
    ];
  },
};
