/**
 * model-infer: OIP ModelInfer straight to the inference service, sentiment 1, one row per request (raw INT64
 * input_ids from the tokenizer service), 64 in flight; dynamic batching at its defaults against off
 * (MAX_BATCH_SIZE=1: one session run per request, with --all-variants), each window paired with an echo window.
 */
import { contracts } from '@maas/protos';
import { BASELINE_CONCURRENCY as CONCURRENCY, echoPair } from './harness/echo-baseline.js';
import { benchTexts, textsAt } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark, type VariantResult } from './harness/benchmark.js';
import { checkInferResponse, encodeWithTokenizer, modelInferRequests } from './harness/model-inputs.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

const VARIANTS: ReadonlyArray<{ variant: string; env: Record<string, string> }> = [
  { variant: 'batching on (defaults)', env: {} },
  { variant: 'batching off', env: { MAX_BATCH_SIZE: '1' } },
];
/** Distinct requests cycled through (the tokenizer's batch limit). */
const DISTINCT_ROWS = 256;

export const modelInfer: Benchmark = {
  name: 'model-infer',
  title: 'inference ModelInfer, sentiment 1, 1 raw row per request, 64 in flight; batching on vs off',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const results: VariantResult[] = [];
    for (const { variant, env } of context.allVariants ? VARIANTS : VARIANTS.slice(0, 1)) {
      results.push(
        ...(await withMesh(context, `model-infer ${variant}`, env, async (mesh) => {
          const encoded = await encodeWithTokenizer(
            mesh.addresses.tokenizer,
            { model: 'sentiment', version: '1', texts: textsAt(texts, 0, DISTINCT_ROWS) },
            mesh.clientOptions,
          );
          const requests = prepareRequests(contracts().inference.GRPCInferenceService.service.ModelInfer, modelInferRequests(encoded, 1));
          checkInferResponse(await callOnceAt(mesh.addresses.inference, requests, mesh.clientOptions), { output: 'probability', rows: 1, valuesPerRow: 1 });
          return [
            await measureVariant(context, {
              benchmark: 'model-infer',
              variant,
              ...meshTarget(mesh, 'inference'),
              requests,
              concurrency: CONCURRENCY,
              itemsPerRequest: 1,
              itemName: 'row',
              pairWith: [{ baseline: echoPair(await context.echo(), context.settings.timeoutMs) }],
            }),
          ];
        })),
      );
    }
    return results;
  },
};
