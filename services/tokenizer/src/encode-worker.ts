/**
 * An encode worker: tokenizes batches off the main thread, because a Hugging Face tokenizer spends
 * milliseconds of synchronous work per batch (normalizer, pre-tokenizer, WordPiece/BPE) that would otherwise
 * hold up every gRPC call of the service. It keeps its own copy of each version's tokenizer (built from the
 * file text the main thread sends at load) and answers each batch with the tensors' one buffer, transferred.
 *
 * Started by encode-pool.ts as `dist/encode-worker.js`, or from `src/encode-worker.ts` through tsx in tests.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { encodeBatch, type EncodingLayout, type TextTokenizer } from './encoder.js';
import type { EncodeWorkerToMain, MainToEncodeWorker } from './encode-protocol.js';
import { tokenizerOfKind } from './tokenizer-kinds.js';

const port = parentPort!;
const tokenizers = new Map<number, { tokenizer: TextTokenizer; layout: EncodingLayout } | { error: string }>();
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

port.on('message', (message: MainToEncodeWorker) => {
  if (message.type === 'load') {
    try {
      tokenizers.set(message.handle, { tokenizer: tokenizerOfKind(message.kind, message.fileText), layout: message.layout });
    } catch (error) {
      // The main thread built the same tokenizer from the same text before sending it, so this is unexpected;
      // each encode with it says why.
      tokenizers.set(message.handle, { error: messageOf(error) });
    }
    return;
  }
  if (message.type === 'unload') {
    tokenizers.delete(message.handle);
    return;
  }
  const send = (reply: EncodeWorkerToMain, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
  const loaded = tokenizers.get(message.handle);
  if (!loaded || 'error' in loaded) {
    send({
      type: 'failed',
      id: message.id,
      message: loaded ? `the tokenizer did not load in the encode worker: ${loaded.error}` : 'the tokenizer is not loaded in the encode worker',
    });
    return;
  }
  try {
    const startedAt = performance.now();
    const batch = encodeBatch({ tokenizer: loaded.tokenizer, layout: loaded.layout, texts: message.texts, narrowIntegers: message.narrowIntegers });
    const seconds = (performance.now() - startedAt) / 1000;
    // encodeBatch writes every tensor into one buffer (one allocation per batch): that buffer travels whole.
    const buffer = batch.tensors[0]!.raw_contents.buffer as ArrayBuffer;
    const tensors = batch.tensors.map((tensor) => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      byteOffset: tensor.raw_contents.byteOffset,
      byteLength: tensor.raw_contents.byteLength,
    }));
    send({ type: 'encoded', id: message.id, buffer, tensors, tokenCounts: batch.tokenCounts, truncated: batch.truncated, seconds }, [buffer]);
  } catch (error) {
    send({ type: 'failed', id: message.id, message: messageOf(error) });
  }
});
