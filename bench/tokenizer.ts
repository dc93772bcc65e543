/**
 * tokenizer: maas.v1.Tokenizer/Encode straight to the tokenizer service, 256 texts per request, 4 in flight:
 * the Keras word-index tokenizer (sentiment 1, 100 tokens, pre-padding) against the Hugging Face WordPiece
 * tokenizer.json (encoder-bench 1, 128 tokens, two tensors). One mesh serves both.
 */
import { contracts, type EncodeRequest, type EncodeResponse__Output } from '@maas/protos';
import { benchTexts, textsAt } from './harness/bench-texts.js';
import { measureVariant, meshTarget, withMesh, type Benchmark } from './harness/benchmark.js';
import { callOnceAt, prepareRequests } from './harness/raw-unary-client.js';

const TEXTS_PER_REQUEST = 256;
const CONCURRENCY = 4;
/** Different 256-text batches (starting at different texts), cycled through. */
const DISTINCT_BATCHES = 8;

const VARIANTS = [
  { variant: 'Keras (sentiment 1)', model: 'sentiment', version: '1', inputs: 1 },
  { variant: 'WordPiece (encoder-bench 1)', model: 'encoder-bench', version: '1', inputs: 2 },
] as const;

function checkEncode(response: EncodeResponse__Output, inputs: number): void {
  if (response.tensors.length !== inputs || response.tensors.some((tensor) => Number(tensor.shape[0]) !== TEXTS_PER_REQUEST) || response.token_counts.length !== TEXTS_PER_REQUEST) {
    throw new Error(`unexpected Encode answer: ${JSON.stringify({ tensors: response.tensors.map((tensor) => tensor.shape), counts: response.token_counts.length })}`);
  }
}

export const tokenizer: Benchmark = {
  name: 'tokenizer',
  title: 'tokenizer Encode, 256 texts per request, 4 in flight; Keras vs WordPiece',
  async run(context) {
    const texts = benchTexts(context.rootDir);
    const step = Math.floor(texts.length / DISTINCT_BATCHES);
    return withMesh(context, 'tokenizer', {}, async (mesh) => {
      const results = [];
      for (const { variant, model, version, inputs } of VARIANTS) {
        const batches: EncodeRequest[] = Array.from({ length: DISTINCT_BATCHES }, (_, index) => ({ model, version, texts: textsAt(texts, index * step, TEXTS_PER_REQUEST) }));
        const requests = prepareRequests(contracts().maas.v1.Tokenizer.service.Encode, batches);
        checkEncode(await callOnceAt(mesh.addresses.tokenizer, requests), inputs);
        results.push(
          await measureVariant(context, {
            benchmark: 'tokenizer',
            variant,
            ...meshTarget(mesh, 'tokenizer'),
            requests,
            concurrency: CONCURRENCY,
            itemsPerRequest: TEXTS_PER_REQUEST,
            itemName: 'text',
          }),
        );
      }
      return results;
    });
  },
};
