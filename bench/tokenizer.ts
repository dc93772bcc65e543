/**
 * tokenizer: maas.v1.Tokenizer/Encode straight to the tokenizer service, 256 texts per request, 4 in flight,
 * narrow integers as the gateway asks for them:
 * the Keras word-index tokenizer (sentiment 1, 100 tokens, pre-padding) and the Hugging Face WordPiece
 * tokenizer.json (encoder-bench 1, 128 tokens, two tensors), each against the same tokenizer inline in one
 * process on the same texts (@maas/keras-tokenizer, @huggingface/tokenizers), measured right before each window.
 */
import { contracts, type EncodeRequest, type EncodeResponse__Output } from '@maas/protos';
import { benchTexts, textsAt } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark } from './harness/benchmark.js';
import { inProcessTokenizerBaseline } from './harness/paired-baseline.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

const TEXTS_PER_REQUEST = 256;
const CONCURRENCY = 4;
/** Different 256-text batches (starting at different texts), cycled through. */
const DISTINCT_BATCHES = 8;

const VARIANTS = [
  { variant: 'Keras (sentiment 1)', model: 'sentiment', version: '1', inputs: 1 },
  // Issue 7: Encode over gRPC at ≥ 0.8× the library in-process.
  { variant: 'WordPiece (encoder-bench 1)', model: 'encoder-bench', version: '1', inputs: 2, goal: { ratioAtLeast: 0.8 } },
] as const;

function checkEncode(response: EncodeResponse__Output, inputs: number): void {
  if (
    response.tensors.length !== inputs ||
    response.tensors.some((tensor) => Number(tensor.shape[0]) !== TEXTS_PER_REQUEST) ||
    response.token_counts.length !== TEXTS_PER_REQUEST
  ) {
    throw new Error(
      `unexpected Encode answer: ${JSON.stringify({ tensors: response.tensors.map((tensor) => tensor.shape), counts: response.token_counts.length })}`,
    );
  }
}

export const tokenizer: Benchmark = {
  name: 'tokenizer',
  title: 'tokenizer Encode, 256 texts per request, 4 in flight, vs the same tokenizer in-process; Keras and WordPiece',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const step = Math.floor(texts.length / DISTINCT_BATCHES);
    return withMesh(context, 'tokenizer', {}, async (mesh) => {
      const results = [];
      for (const spec of VARIANTS) {
        const { variant, model, version, inputs } = spec;
        const batches: EncodeRequest[] = Array.from({ length: DISTINCT_BATCHES }, (_, index) => ({
          model,
          version,
          texts: textsAt(texts, index * step, TEXTS_PER_REQUEST),
          // As the gateway asks: the narrowest integer datatype per tensor (UINT16 ids, UINT8 mask).
          narrow_integers: true,
        }));
        const requests = prepareRequests(contracts().maas.v1.Tokenizer.service.Encode, batches);
        checkEncode(await callOnceAt(mesh.addresses.tokenizer, requests, mesh.clientOptions), inputs);
        const baseline = inProcessTokenizerBaseline({ rootDir: context.rootDir, model, version, textsPerCall: TEXTS_PER_REQUEST });
        results.push(
          await measureVariant(context, {
            benchmark: 'tokenizer',
            variant,
            ...meshTarget(mesh, 'tokenizer'),
            requests,
            concurrency: CONCURRENCY,
            itemsPerRequest: TEXTS_PER_REQUEST,
            itemName: 'text',
            pairWith: [{ baseline, ...('goal' in spec ? { goal: spec.goal } : {}) }],
          }),
        );
      }
      return results;
    });
  },
};
