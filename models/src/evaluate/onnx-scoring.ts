import * as ort from 'onnxruntime-node';

/**
 * Runs a single-input, single-output ONNX classifier over padded int32 ids in chunks and returns
 * its output values row after row. Metrics are taken from the exported file through ONNX Runtime,
 * so they describe the artifact that is served, not the training code.
 */
export async function scoreOnnx(options: {
  model: Uint8Array | string;
  ids: Int32Array;
  count: number;
  sequenceLength: number;
  inputName: string;
  outputName: string;
  chunkSize?: number;
}): Promise<Float32Array> {
  const { ids, count, sequenceLength: L, chunkSize = 1024 } = options;
  const session = typeof options.model === 'string' ? await ort.InferenceSession.create(options.model) : await ort.InferenceSession.create(options.model);
  try {
    const parts: Float32Array[] = [];
    for (let start = 0; start < count; start += chunkSize) {
      const n = Math.min(chunkSize, count - start);
      const chunk = BigInt64Array.from(ids.subarray(start * L, (start + n) * L), (v) => BigInt(v));
      const out = await session.run({ [options.inputName]: new ort.Tensor('int64', chunk, [n, L]) });
      parts.push(Float32Array.from(out[options.outputName]!.data as Float32Array));
    }
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return all;
  } finally {
    await session.release();
  }
}
