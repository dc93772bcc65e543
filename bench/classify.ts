/**
 * classify: maas.v1.Gateway/Classify with one text per request, 64 in flight, through the whole mesh (gateway →
 * tokenizer → inference, four processes). Gateway coalescing at its defaults against coalescing off
 * (COALESCE_MAX_TEXTS=1: every request pays both internal hops alone), first with the default cap of 4
 * batches in flight downstream per (model, version), then without it (COALESCE_MAX_IN_FLIGHT=64).
 */
import { contracts, type ClassifyResponse__Output } from '@maas/protos';
import { BASELINE_CONCURRENCY as CONCURRENCY, singleTextClassifyRequests } from './harness/echo-baseline.js';
import { eventually } from '../test/support/eventually.js';
import { measureVariant, meshTarget, withMesh, type Benchmark, type VariantResult } from './harness/benchmark.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

export const CLASSIFY_VARIANTS: ReadonlyArray<{ variant: string; env: Record<string, string> }> = [
  { variant: 'coalescing on (defaults)', env: {} },
  { variant: 'coalescing off', env: { COALESCE_MAX_TEXTS: '1' } },
  // Off as above, without the in-flight cap of 4 batches: every call takes its own two hops at once.
  { variant: 'off, unthrottled', env: { COALESCE_MAX_TEXTS: '1', COALESCE_MAX_IN_FLIGHT: '64' } },
];

function checkClassify(response: ClassifyResponse__Output): void {
  const [prediction] = response.predictions;
  if (response.predictions.length !== 1 || !['negative', 'positive'].includes(prediction!.label) || prediction!.model_version !== '1') {
    throw new Error(`unexpected Classify answer: ${JSON.stringify(response)}`);
  }
}

export const classify: Benchmark = {
  name: 'classify',
  title: 'Gateway/Classify, 1 text per request, 64 in flight, whole mesh; gateway coalescing on vs off',
  async run(context) {
    const requests = prepareRequests(contracts().maas.v1.Gateway.service.Classify, singleTextClassifyRequests(context.rootDir));
    const results: VariantResult[] = [];
    for (const { variant, env } of CLASSIFY_VARIANTS) {
      results.push(
        ...(await withMesh(context, `classify ${variant}`, env, async (mesh) => {
          // The gateway routes only to versions inference has reported ready: wait for its first answer.
          checkClassify(await eventually('a first Classify', () => callOnceAt(mesh.addresses.gateway, requests), { timeoutMs: 60_000, intervalMs: 200 }));
          return [
            await measureVariant(context, {
              benchmark: 'classify',
              variant,
              ...meshTarget(mesh, 'gateway'),
              requests,
              concurrency: CONCURRENCY,
              itemsPerRequest: 1,
              itemName: 'text',
              compareWithEcho: true,
            }),
          ];
        })),
      );
    }
    return results;
  },
};
