/**
 * encoder: the compute-heavy case. OIP ModelInfer straight to inference with encoder-bench 1 (BERT-shaped,
 * 4 layers, 384 wide, 128 tokens), 8 rows per request, 16 in flight (128 rows: a full batch of MAX_BATCH_SIZE=64 for each of two workers),
 * across SESSION_WORKERS 1 | 2 × INTRA_OP_THREADS 1 | 0 (0 = ONNX Runtime's default, a thread per core), to
 * show where threads pay on this machine.
 */
import { contracts } from '@maas/protos';
import { benchTexts, textsAt } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark, type VariantResult } from './harness/benchmark.js';
import { checkInferResponse, encodeWithTokenizer, modelInferRequests } from './harness/model-inputs.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

const ROWS_PER_REQUEST = 8;
const CONCURRENCY = 16;
const DISTINCT_ROWS = 256;

const VARIANTS: ReadonlyArray<{ variant: string; env: Record<string, string> }> = [
  { variant: '1 worker, 1 thread (defaults)', env: {} },
  { variant: '2 workers, 1 thread each', env: { SESSION_WORKERS: '2' } },
  { variant: '1 worker, ORT threads', env: { INTRA_OP_THREADS: '0' } },
  { variant: '2 workers, ORT threads each', env: { SESSION_WORKERS: '2', INTRA_OP_THREADS: '0' } },
];

export const encoder: Benchmark = {
  name: 'encoder',
  title: 'inference ModelInfer, encoder-bench 1, 8 rows per request, 16 in flight; SESSION_WORKERS x INTRA_OP_THREADS',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const results: VariantResult[] = [];
    for (const { variant, env } of VARIANTS) {
      results.push(
        ...(await withMesh(context, `encoder ${variant}`, env, async (mesh) => {
          const encoded = await encodeWithTokenizer(mesh.addresses.tokenizer, { model: 'encoder-bench', version: '1', texts: textsAt(texts, 0, DISTINCT_ROWS) });
          const requests = prepareRequests(contracts().inference.GRPCInferenceService.service.ModelInfer, modelInferRequests(encoded, ROWS_PER_REQUEST));
          checkInferResponse(await callOnceAt(mesh.addresses.inference, requests), { output: 'logits', rows: ROWS_PER_REQUEST, valuesPerRow: 2 });
          return [
            await measureVariant(context, {
              benchmark: 'encoder',
              variant,
              ...meshTarget(mesh, 'inference'),
              requests,
              concurrency: CONCURRENCY,
              itemsPerRequest: ROWS_PER_REQUEST,
              itemName: 'row',
            }),
          ];
        })),
      );
    }
    return results;
  },
};
