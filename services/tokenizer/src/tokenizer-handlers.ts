import type { EncodeRequest__Output, EncodeResponse, TokenizerHandlers } from '@maas/protos';
import {
  annotateActiveSpan,
  checkTextLimits,
  invalidArgument,
  recordFinishedSpan,
  serviceTracer,
  SPAN_ATTRIBUTES,
  unary,
  type HandlerContext,
} from '@maas/shared';
import type { TokenizerCache } from './tokenizer-cache.js';
import type { TokenizerMetrics } from './tokenizer-metrics.js';

/** Request limits (see config.ts). */
export interface EncodeLimits {
  maxBatchTexts: number;
  maxTextBytes: number;
}

/** Rejects a request this service will not encode, saying what and where. Cheap checks before any load. */
export function validateEncodeRequest(request: EncodeRequest__Output, limits: EncodeLimits): void {
  if (!request.model) throw invalidArgument('model is required');
  if (!request.version) throw invalidArgument('version is required (the caller picks the version before encoding)');
  checkTextLimits(request.texts, { maxTexts: limits.maxBatchTexts, maxTextBytes: limits.maxTextBytes });
}

const tracer = serviceTracer('maas-tokenizer');

/** The encoding of one Encode call's texts (in an encode worker or on the event loop), a child of its server span. */
export const ENCODE_SPAN = 'maas.tokenizer.encode';

/**
 * What an Encode call was, on its server span (`maas.v1.Tokenizer/Encode`: model, version, texts, tokens,
 * truncated texts), and its encoding as a child span timed where it ran. Nothing is built when not recorded.
 */
function traceEncode(request: EncodeRequest__Output, encoded: { kind: string; seconds: number; tokenCounts: readonly number[]; truncated: number }): void {
  annotateActiveSpan(() => ({
    [SPAN_ATTRIBUTES.model]: request.model,
    [SPAN_ATTRIBUTES.modelVersion]: request.version,
    [SPAN_ATTRIBUTES.texts]: request.texts.length,
    [SPAN_ATTRIBUTES.tokens]: encoded.tokenCounts.reduce((sum, count) => sum + count, 0),
    [SPAN_ATTRIBUTES.truncatedTexts]: encoded.truncated,
  }));
  recordFinishedSpan({
    tracer,
    name: ENCODE_SPAN,
    seconds: encoded.seconds,
    attributes: () => ({ [SPAN_ATTRIBUTES.tokenizerKind]: encoded.kind, [SPAN_ATTRIBUTES.texts]: request.texts.length }),
  });
}

export interface TokenizerHandlerDeps {
  cache: TokenizerCache;
  limits: EncodeLimits;
  metrics: TokenizerMetrics;
  ctx: HandlerContext;
}

/** maas.v1.Tokenizer. */
export function createTokenizerHandlers(deps: TokenizerHandlerDeps): TokenizerHandlers {
  const { cache, limits, metrics, ctx } = deps;
  return {
    Encode: unary<EncodeRequest__Output, EncodeResponse>(
      'Encode',
      async (request) => {
        validateEncodeRequest(request, limits);
        const loaded = await cache.get({ model: request.model, version: request.version });
        const batch = await loaded.encode(request.texts, { narrowIntegers: request.narrow_integers });
        metrics.encodeDuration.observe({ kind: loaded.tokenizer.kind }, batch.seconds);
        metrics.encodeRequests.inc({ model: request.model, version: request.version });
        metrics.textsPerRequest.observe(request.texts.length);
        const truncatedCount = batch.truncated.reduce((sum, cut) => (cut ? sum + 1 : sum), 0);
        if (truncatedCount > 0) metrics.truncatedTexts.inc({ model: request.model }, truncatedCount);
        traceEncode(request, { kind: loaded.tokenizer.kind, seconds: batch.seconds, tokenCounts: batch.tokenCounts, truncated: truncatedCount });
        return {
          model: request.model,
          version: request.version,
          tensors: batch.tensors,
          token_counts: batch.tokenCounts,
          truncated: batch.truncated,
        };
      },
      ctx,
    ),
  };
}
