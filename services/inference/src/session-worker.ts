/**
 * A session worker: owns one ONNX Runtime InferenceSession in a worker thread, because in onnxruntime-node
 * session.run() is synchronous native work that would block the main thread's event loop (and with it every
 * gRPC call). The main thread sends batches as HostTensors whose ArrayBuffers are transferred (no copy, no
 * per-element objects); outputs come back the same way. One batch at a time per worker.
 *
 * Started by session-pool.ts as `dist/session-worker.js`, or from `src/session-worker.ts` through tsx when the
 * service itself runs from source (tests).
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { DATATYPES, type HostTensor, bytesOf, datatypeOfOrtType, numericView, packBytesElements, splitBytesElements } from './datatypes.js';
import type { MainToWorker, SessionTensorInfo, SessionWorkerData, WorkerToMain } from './session-protocol.js';

const port = parentPort!;
const options = workerData as SessionWorkerData;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const send = (message: WorkerToMain, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Tries the providers in order: attempt i uses providers[i..] (the rest stay as fallbacks for nodes the first
 * cannot run), and plain CPU comes last when the list lacks it.
 */
async function createSession(): Promise<{ session: ort.InferenceSession; provider: string; warnings: string[] }> {
  const providers = options.executionProviders.length > 0 ? options.executionProviders : ['cpu'];
  const attempts = providers.map((_, index) => providers.slice(index));
  if (!providers.includes('cpu')) attempts.push(['cpu']);
  const warnings: string[] = [];
  const spinning = options.threadSpinning ? '1' : '0';
  let lastError: unknown;
  for (const [index, executionProviders] of attempts.entries()) {
    try {
      const session = await ort.InferenceSession.create(options.modelPath, {
        executionProviders,
        graphOptimizationLevel: options.graphOptimizationLevel,
        ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
        ...(options.interOpThreads > 0 ? { interOpNumThreads: options.interOpThreads } : {}),
        // Session config entries session.intra_op.allow_spinning / session.inter_op.allow_spinning.
        extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
        logSeverityLevel: 3,
      });
      return { session, provider: executionProviders[0]!, warnings };
    } catch (error) {
      lastError = error;
      const next = attempts[index + 1]?.[0];
      warnings.push(`execution provider '${executionProviders[0]}' failed: ${messageOf(error)}${next ? `; falling back to '${next}'` : ''}`);
    }
  }
  throw lastError;
}

function toOrtTensor(tensor: HostTensor): ort.Tensor {
  const type = DATATYPES[tensor.datatype].ort;
  if (tensor.datatype === 'BYTES') {
    return new ort.Tensor(
      'string',
      splitBytesElements(tensor.data).map((element) => decoder.decode(element)),
      tensor.shape,
    );
  }
  // One call for every numeric type: DATATYPES pairs each ort type with its typed array, which is what the
  // view is; the casts only pick one of the constructor's per-type overloads.
  return new ort.Tensor(type as 'float32', numericView(tensor.datatype, tensor.data) as Float32Array, tensor.shape);
}

function fromOrtTensor(name: string, value: ort.Tensor): HostTensor {
  const datatype = datatypeOfOrtType(value.type);
  if (!datatype) throw new Error(`output ${JSON.stringify(name)} has type ${value.type}, which this server cannot return`);
  const shape = [...value.dims];
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: packBytesElements((value.data as string[]).map((text) => encoder.encode(text))) };
  }
  let data = bytesOf(value.data as ArrayBufferView);
  // Only a buffer the tensor owns whole can be transferred; copy otherwise.
  if (data.byteOffset !== 0 || data.buffer.byteLength !== data.byteLength) data = new Uint8Array(data);
  return { name, datatype, shape, data };
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): SessionTensorInfo[] {
  return metadata.map((value) =>
    value.isTensor ? { name: value.name, type: value.type, shape: [...value.shape] } : { name: value.name, type: 'non-tensor', shape: [] },
  );
}

async function main(): Promise<void> {
  let created: Awaited<ReturnType<typeof createSession>>;
  try {
    created = await createSession();
  } catch (error) {
    send({ type: 'failed', message: messageOf(error), warnings: [] });
    return;
  }
  const { session, provider, warnings } = created;
  send({ type: 'ready', provider, warnings, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });

  port.on('message', (message: MainToWorker) => {
    if (message.type === 'close') {
      void session.release().finally(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    }
    void (async () => {
      try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const tensor of message.inputs) feeds[tensor.name] = toOrtTensor(tensor);
        const startedAt = performance.now();
        const results = await session.run(feeds, message.outputs);
        const computeSeconds = (performance.now() - startedAt) / 1000;
        const outputs = message.outputs.map((name) => fromOrtTensor(name, results[name] as ort.Tensor));
        const transfer = [...new Set(outputs.map((tensor) => tensor.data.buffer as ArrayBuffer))];
        send({ type: 'result', id: message.id, outputs, computeSeconds }, transfer);
      } catch (error) {
        send({ type: 'error', id: message.id, message: messageOf(error) });
      }
    })();
  });
}

void main();
