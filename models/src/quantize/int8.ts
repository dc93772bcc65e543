/**
 * Symmetric int8 weight quantisation (zero point 0, values in [-127, 127]), per tensor or per axis.
 * The stored form is what ONNX `DequantizeLinear` reads: `x = (q - 0) · scale`, with one scale per
 * slice along `axis` (or a single scale). Leaving -128 unused keeps the range symmetric, so that
 * w and -w quantise to opposite values.
 */
export interface Int8Tensor {
  values: Int8Array;
  /** One scale per channel along `axis`, or a single scale when `axis` is null. */
  scales: Float32Array;
  /** The quantisation axis, or null for per-tensor quantisation. */
  axis: number | null;
  dims: readonly number[];
}

function channelLayout(dims: readonly number[], axis: number | null): { channels: number; inner: number } {
  if (axis === null) return { channels: 1, inner: dims.reduce((a, b) => a * b, 1) };
  if (axis < 0 || axis >= dims.length) throw new RangeError(`axis ${axis} outside a rank-${dims.length} tensor`);
  return { channels: dims[axis]!, inner: dims.slice(axis + 1).reduce((a, b) => a * b, 1) };
}

/** Quantises float32 weights to int8 with scale = max|w| / 127 per channel. */
export function quantizeInt8(data: Float32Array, dims: readonly number[], axis: number | null): Int8Tensor {
  const { channels, inner } = channelLayout(dims, axis);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    const a = Math.abs(data[i]!);
    if (a > maxAbs[c]!) maxAbs[c] = a;
  }
  // An all-zero channel gets scale 1 rather than 0, so that dequantisation never divides by zero.
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const q = Math.round(data[i]! / scales[channelOf(i)]!);
    values[i] = Math.max(-127, Math.min(127, q));
  }
  return { values, scales, axis, dims };
}

/** The float32 weights a runtime sees after `DequantizeLinear` (one float32 multiply each). */
export function dequantizeInt8(tensor: Int8Tensor): Float32Array {
  const { channels, inner } = channelLayout(tensor.dims, tensor.axis);
  const out = new Float32Array(tensor.values.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = tensor.values[i]! * tensor.scales[Math.floor(i / inner) % channels]!;
  }
  return out;
}
