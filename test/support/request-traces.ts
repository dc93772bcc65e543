// Reads one Classify request's story out of the spans a real mesh exported: its gateway server span, the
// coalesced batch that served it (a child when it was the batch's first request, else reached through the
// link), the batch's tokenizer and inference hops, inference's own batch and the ONNX Runtime run. Throws,
// naming what is missing, while the story is incomplete (spans arrive in export batches): use with eventually.
import type { ReceivedSpan } from './otlp-receiver.js';

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** The spans of one Classify request, from the gateway down to the ONNX Runtime run. */
export interface ClassifyStory {
  /** The gateway's `maas.v1.Gateway/Classify` server span, in the request's own trace. */
  request: ReceivedSpan;
  /** The coalesced batch span it went out in (maybe in another request's trace). */
  gatewayBatch: ReceivedSpan;
  encodeClient: ReceivedSpan;
  encodeServer: ReceivedSpan;
  tokenizerEncode: ReceivedSpan;
  inferClient: ReceivedSpan;
  inferServer: ReceivedSpan;
  inferenceBatch: ReceivedSpan;
  onnxRun: ReceivedSpan;
}

function one(spans: readonly ReceivedSpan[], what: string, match: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.find(match);
  if (!found) throw new Error(`no ${what} yet`);
  return found;
}

/** The span another one links to, wherever (whichever trace) it is. */
function linked(spans: readonly ReceivedSpan[], from: ReceivedSpan, what: string, match: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const ids = new Set(from.links.map((link) => link.spanId));
  return one(spans, `${what} linked from ${from.name} (${from.service})`, (span) => ids.has(span.spanId) && match(span));
}

const childOf = (parent: ReceivedSpan) => (span: ReceivedSpan) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId;

/** The whole story of the Classify request traced as `traceId`. */
export function classifyStory(spans: readonly ReceivedSpan[], traceId: string): ClassifyStory {
  const request = one(
    spans,
    `gateway Classify server span in trace ${traceId}`,
    (span) => span.traceId === traceId && span.service === 'maas-gateway' && span.kind === SPAN_KIND.SERVER && span.name === 'maas.v1.Gateway/Classify',
  );
  const gatewayBatch = linked(spans, request, 'gateway batch span', (span) => span.service === 'maas-gateway' && span.name === 'maas.gateway.batch');
  const encodeClient = one(
    spans,
    'tokenizer Encode client span under the batch',
    (span) => childOf(gatewayBatch)(span) && span.kind === SPAN_KIND.CLIENT && span.name === 'maas.v1.Tokenizer/Encode',
  );
  const encodeServer = one(
    spans,
    'tokenizer Encode server span',
    (span) => childOf(encodeClient)(span) && span.service === 'maas-tokenizer' && span.kind === SPAN_KIND.SERVER,
  );
  const tokenizerEncode = one(spans, 'tokenizer encode span', (span) => childOf(encodeServer)(span) && span.name === 'maas.tokenizer.encode');
  const inferClient = one(
    spans,
    'ModelInfer client span under the batch',
    (span) => childOf(gatewayBatch)(span) && span.kind === SPAN_KIND.CLIENT && span.name === 'inference.GRPCInferenceService/ModelInfer',
  );
  const inferServer = one(
    spans,
    'inference ModelInfer server span',
    (span) => childOf(inferClient)(span) && span.service === 'maas-inference' && span.kind === SPAN_KIND.SERVER,
  );
  const inferenceBatch = linked(
    spans,
    inferServer,
    'inference batch span',
    (span) => span.service === 'maas-inference' && span.name === 'maas.inference.batch',
  );
  const onnxRun = one(spans, 'onnxruntime.run span under the inference batch', (span) => childOf(inferenceBatch)(span) && span.name === 'onnxruntime.run');
  return { request, gatewayBatch, encodeClient, encodeServer, tokenizerEncode, inferClient, inferServer, inferenceBatch, onnxRun };
}
