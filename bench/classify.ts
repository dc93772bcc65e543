/**
 * classify: maas.v1.Gateway/Classify through the whole mesh (gateway → tokenizer → inference, four processes at
 * `npm start`'s defaults) against the naive single-process peer of issue 7 serving the same contract, model and
 * texts, each window paired with a peer window of the same load right before it: one text per call at 1 and 64
 * in flight, and 32 texts per call at 16 in flight. With --all-variants also: the mesh against the echo
 * ceiling, gateway coalescing off (COALESCE_MAX_TEXTS=1), throttled and not, and 32 texts per call with one
 * merged batch in flight at a time (COALESCE_MAX_IN_FLIGHT=1).
 */
import { type ClassifyResponse__Output } from '@maas/protos';
import { eventually } from '../test/support/eventually.js';
import { benchTexts } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark, type BenchContext, type Goal, type VariantResult } from './harness/benchmark.js';
import { BASELINE_CONCURRENCY, echoPair } from './harness/echo-baseline.js';
import { classifyRequests, serverBaseline, type PairedBaseline } from './harness/paired-baseline.js';
import { callOnceAt, type PreparedRequests } from './harness/raw-unary-client.js';

interface Workload {
  variant: string;
  textsPerRequest: number;
  concurrency: number;
  /** Issue 7's target against the peer. */
  goal: Goal;
}

/** Issue 7's workloads, at the defaults. */
const WORKLOADS: readonly Workload[] = [
  { variant: '1 text, 1 in flight', textsPerRequest: 1, concurrency: 1, goal: { p50DeltaAtMostMs: 1.0 } },
  { variant: '1 text, 64 in flight', textsPerRequest: 1, concurrency: BASELINE_CONCURRENCY, goal: { ratioAtLeast: 0.9, p99RatioAtMost: 1.0 } },
  { variant: '32 texts, 16 in flight', textsPerRequest: 32, concurrency: 16, goal: { ratioAtLeast: 1.0 } },
];

/** Knobs measured with --all-variants, each on one of the workloads above, against the peer. */
const EXTRA_VARIANTS: ReadonlyArray<{ variant: string; workload: number; env: Record<string, string> }> = [
  { variant: '1 text, 64 in flight, coalescing off', workload: 1, env: { COALESCE_MAX_TEXTS: '1' } },
  { variant: '1 text, 64 in flight, coalescing off, unthrottled', workload: 1, env: { COALESCE_MAX_TEXTS: '1', COALESCE_MAX_IN_FLIGHT: '64' } },
  // Whether a second merged batch in flight pays: with 512 texts in flight, two batches of 256 at once.
  { variant: '32 texts, 16 in flight, one batch in flight', workload: 2, env: { COALESCE_MAX_IN_FLIGHT: '1' } },
];

function checkClassify(response: ClassifyResponse__Output, texts: number): void {
  if (
    response.predictions.length !== texts ||
    response.predictions.some((prediction) => !['negative', 'positive'].includes(prediction.label) || prediction.model_version !== '1')
  ) {
    throw new Error(`unexpected Classify answer: ${JSON.stringify(response).slice(0, 300)}`);
  }
}

/** The peer serving the same requests at the same concurrency, as a paired baseline. */
export async function peerPair(
  context: BenchContext,
  requests: PreparedRequests<ClassifyResponse__Output>,
  load: { concurrency: number; textsPerRequest: number },
): Promise<PairedBaseline> {
  const peer = await context.peer();
  await peer.check(requests, { texts: load.textsPerRequest });
  return serverBaseline({
    name: 'peer',
    address: peer.address,
    clientOptions: peer.clientOptions,
    requests,
    concurrency: load.concurrency,
    itemsPerRequest: load.textsPerRequest,
    timeoutMs: context.settings.timeoutMs,
  });
}

export const classify: Benchmark = {
  name: 'classify',
  title: 'Gateway/Classify through the mesh vs the naive single-process peer: 1 text at 1 and 64 in flight, 32 texts at 16',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const requestsFor = (textsPerRequest: number) =>
      classifyRequests(texts, { model: 'sentiment', textsPerRequest, distinct: Math.max(1, Math.floor(texts.length / textsPerRequest)) });
    const measureOn = (
      env: Record<string, string>,
      label: string,
      run: (measureOne: (workload: Workload & { echo?: boolean }) => Promise<VariantResult>) => Promise<VariantResult[]>,
    ) =>
      withMesh(context, label, env, async (mesh) => {
        // The gateway routes only to versions inference has reported ready: wait for its first answer.
        checkClassify(
          await eventually('a first Classify', () => callOnceAt(mesh.addresses.gateway, requestsFor(1), mesh.clientOptions), {
            timeoutMs: 60_000,
            intervalMs: 200,
          }),
          1,
        );
        return run(async (workload) => {
          const requests = requestsFor(workload.textsPerRequest);
          checkClassify(await callOnceAt(mesh.addresses.gateway, requests, mesh.clientOptions), workload.textsPerRequest);
          const pairWith: Array<{ baseline: PairedBaseline; goal?: Goal }> = [{ baseline: await peerPair(context, requests, workload), goal: workload.goal }];
          if (workload.echo) pairWith.push({ baseline: echoPair(await context.echo(), context.settings.timeoutMs) });
          return measureVariant(context, {
            benchmark: 'classify',
            variant: workload.variant,
            ...meshTarget(mesh, 'gateway'),
            env,
            requests,
            concurrency: workload.concurrency,
            itemsPerRequest: workload.textsPerRequest,
            itemName: 'text',
            pairWith,
          });
        });
      });

    const results = await measureOn({}, 'classify defaults', async (measureOne) => {
      const measured: VariantResult[] = [];
      for (const workload of WORKLOADS)
        measured.push(await measureOne({ ...workload, echo: context.allVariants && workload.concurrency === BASELINE_CONCURRENCY }));
      return measured;
    });
    if (!context.allVariants) return results;
    for (const { variant, workload, env } of EXTRA_VARIANTS) {
      results.push(...(await measureOn(env, `classify ${variant}`, async (measureOne) => [await measureOne({ ...WORKLOADS[workload]!, variant, goal: {} })])));
    }
    return results;
  },
};
