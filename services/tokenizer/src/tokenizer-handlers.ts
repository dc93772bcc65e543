import type { EncodeRequest__Output, EncodeResponse, TokenizerHandlers } from '@maas/protos';
import { checkTextLimits, invalidArgument, unary, type HandlerContext } from '@maas/shared';
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
        const batch = await loaded.encode(request.texts);
        metrics.encodeDuration.observe({ kind: loaded.tokenizer.kind }, batch.seconds);
        metrics.encodeRequests.inc({ model: request.model, version: request.version });
        metrics.textsPerRequest.observe(request.texts.length);
        const truncatedCount = batch.truncated.reduce((sum, cut) => (cut ? sum + 1 : sum), 0);
        if (truncatedCount > 0) metrics.truncatedTexts.inc({ model: request.model }, truncatedCount);
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
