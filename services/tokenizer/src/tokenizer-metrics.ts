import * as client from 'prom-client';
import { createLatencyHistogram, MODEL_LOAD_BUCKETS_SECONDS } from '@maas/shared';

/** The tokenizer's domain metrics (the gRPC request/duration metrics come from @maas/shared). */
export interface TokenizerMetrics {
  /** maas_tokenizer_encode_requests_total{model, version}: Encode calls that reached a loaded tokenizer. */
  readonly encodeRequests: client.Counter<'model' | 'version'>;
  /** maas_tokenizer_batch_size_texts: texts per Encode call (the batch size the gateway achieves). */
  readonly textsPerRequest: client.Histogram;
  /** maas_tokenizer_truncated_texts_total{model}: texts cut to max_length. */
  readonly truncatedTexts: client.Counter<'model'>;
  /** maas_tokenizer_encode_duration_seconds{kind}: time to encode one call's batch into tensors. */
  readonly encodeDuration: client.Histogram<'kind'>;
  /** maas_tokenizer_loaded_tokenizers: tokenizers in memory. */
  readonly loadedTokenizers: client.Gauge;
  /** maas_tokenizer_load_duration_seconds{result}: registry fetch + verify + parse of one tokenizer; result ok or error, as inference's loads. */
  readonly loadDuration: client.Histogram<'result'>;
}

export function createTokenizerMetrics(registry: client.Registry): TokenizerMetrics {
  const registers = [registry];
  return {
    encodeRequests: new client.Counter({
      name: 'maas_tokenizer_encode_requests_total',
      help: 'Encode calls that reached a loaded tokenizer, by model and version',
      labelNames: ['model', 'version'],
      registers,
    }),
    textsPerRequest: new client.Histogram({
      name: 'maas_tokenizer_batch_size_texts',
      help: 'Texts per Encode call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    truncatedTexts: new client.Counter({
      name: 'maas_tokenizer_truncated_texts_total',
      help: 'Texts truncated to the manifest max_length, by model',
      labelNames: ['model'],
      registers,
    }),
    encodeDuration: createLatencyHistogram({
      name: 'maas_tokenizer_encode_duration_seconds',
      help: 'Time to tokenize one Encode call and build its tensors, by tokenizer kind',
      labelNames: ['kind'],
      registers,
    }),
    loadedTokenizers: new client.Gauge({
      name: 'maas_tokenizer_loaded_tokenizers',
      help: 'Tokenizers (model versions) loaded in memory',
      registers,
    }),
    loadDuration: new client.Histogram({
      name: 'maas_tokenizer_load_duration_seconds',
      help: 'Time to load one tokenizer: registry GetVersion, artifact download and verification, parsing; by result (ok, error)',
      labelNames: ['result'],
      buckets: MODEL_LOAD_BUCKETS_SECONDS,
      registers,
    }),
  };
}
