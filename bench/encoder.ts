/**
 * encoder: the compute-heavy case, encoder-bench 1 (BERT-shaped, 4 layers, 384 wide, 128 WordPiece tokens).
 * Gateway/Classify through the mesh at the defaults, one text per call, 16 in flight, against two baselines
 * measured right before each window: raw ONNX Runtime in one process at its best batch (the limit: no
 * transport, no tokenizer) and the naive peer (WordPiece inline through @huggingface/tokenizers, one
 * session.run per call). With --all-variants also: OIP ModelInfer straight to inference, 8 rows per call,
 * 16 in flight, across SESSION_WORKERS 1 | 2 × INTRA_OP_THREADS 1 | 0 (0 = ONNX Runtime's default).
 */
import { contracts, type ClassifyResponse__Output } from '@maas/protos';
import { peerPair } from './classify.js';
import { eventually } from '../test/support/eventually.js';
import { benchTexts, textsAt } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark } from './harness/benchmark.js';
import { checkInferResponse, encodeWithTokenizer, modelInferRequests } from './harness/model-inputs.js';
import { classifyRequests, ortLimitBaseline } from './harness/paired-baseline.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

const MODEL = { model: 'encoder-bench', version: '1' };
const CONCURRENCY = 16;
/** Batch sizes the in-process limit tries once; the best one is paired with every window. */
const LIMIT_BATCHES = [1, 8, 32];
const ROWS_PER_REQUEST = 8;
const DISTINCT_ROWS = 256;

const THREAD_VARIANTS: ReadonlyArray<{ variant: string; env: Record<string, string> }> = [
  { variant: 'ModelInfer 8 rows, 1 worker, 1 thread', env: { SESSION_WORKERS: '1', INTRA_OP_THREADS: '1' } },
  { variant: 'ModelInfer 8 rows, 2 workers, 1 thread each', env: { SESSION_WORKERS: '2', INTRA_OP_THREADS: '1' } },
  { variant: 'ModelInfer 8 rows, 1 worker, ORT threads', env: { SESSION_WORKERS: '1', INTRA_OP_THREADS: '0' } },
  { variant: 'ModelInfer 8 rows, 2 workers, ORT threads each', env: { SESSION_WORKERS: '2', INTRA_OP_THREADS: '0' } },
];

function checkClassify(response: ClassifyResponse__Output): void {
  if (response.predictions.length !== 1 || !['negative', 'positive'].includes(response.predictions[0]!.label))
    throw new Error(`unexpected Classify answer: ${JSON.stringify(response)}`);
}

export const encoder: Benchmark = {
  name: 'encoder',
  title: 'encoder-bench 1: Classify through the mesh, 1 text per call, 16 in flight, vs raw ONNX Runtime (best batch) and the naive peer',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const results = await withMesh(context, 'encoder defaults', {}, async (mesh) => {
      const requests = classifyRequests(texts, { model: MODEL.model, textsPerRequest: 1, distinct: texts.length });
      checkClassify(
        await eventually('a first encoder-bench Classify', () => callOnceAt(mesh.addresses.gateway, requests, mesh.clientOptions), {
          timeoutMs: 60_000,
          intervalMs: 200,
        }),
      );
      const limit = await ortLimitBaseline({ rootDir: context.rootDir, ...MODEL, batches: LIMIT_BATCHES, searchMs: 3_000, log: context.log });
      const peer = await peerPair(context, requests, { concurrency: CONCURRENCY, textsPerRequest: 1 });
      return [
        await measureVariant(context, {
          benchmark: 'encoder',
          variant: 'Classify 1 text, 16 in flight',
          ...meshTarget(mesh, 'gateway'),
          requests,
          concurrency: CONCURRENCY,
          itemsPerRequest: 1,
          itemName: 'text',
          pairWith: [
            { baseline: limit, goal: { ratioAtLeast: 0.9 } },
            { baseline: peer, goal: { ratioAtLeast: 1.15 } },
          ],
        }),
      ];
    });
    if (!context.allVariants) return results;
    for (const { variant, env } of THREAD_VARIANTS) {
      results.push(
        ...(await withMesh(context, `encoder ${variant}`, env, async (mesh) => {
          const encoded = await encodeWithTokenizer(mesh.addresses.tokenizer, { ...MODEL, texts: textsAt(texts, 0, DISTINCT_ROWS) }, mesh.clientOptions);
          const requests = prepareRequests(contracts().inference.GRPCInferenceService.service.ModelInfer, modelInferRequests(encoded, ROWS_PER_REQUEST));
          checkInferResponse(await callOnceAt(mesh.addresses.inference, requests, mesh.clientOptions), {
            output: 'logits',
            rows: ROWS_PER_REQUEST,
            valuesPerRow: 2,
          });
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
