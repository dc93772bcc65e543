import { OnnxGraphBuilder } from '../onnx/graph-builder.js';
import { OnnxDataType } from '../onnx/onnx-schema.js';
import { dequantizeInt8, quantizeInt8, type Int8Tensor } from '../quantize/int8.js';
import type { SentimentModelConfig, SentimentWeights } from './sentiment-model.js';

export const SENTIMENT_INPUT = 'input_ids';
export const SENTIMENT_OUTPUT = 'probability';

/**
 * Int8 form of the sentiment weights. The embedding table (160,000 of the 160,289 weights) and the
 * first dense kernel are int8; biases and the 16-weight output kernel stay float32.
 */
export interface QuantizedSentimentWeights {
  /**
   * The embedding minus its padding row (so row 0 is exactly 0), per-axis along the embedding
   * dimension (axis 1): one scale per feature column.
   */
  embedding: Int8Tensor;
  /** Per-axis along the input features (axis 0), see quantizeSentimentWeights. */
  dense1Kernel: Int8Tensor;
  dense2Kernel: Float32Array;
  /** The float bias plus the padding row's contribution, padding row · dense1 kernel. */
  dense1Bias: Float32Array;
  dense2Bias: Float32Array;
}

export function quantizeSentimentWeights(weights: SentimentWeights, config: SentimentModelConfig): QuantizedSentimentWeights {
  const { embeddingDim: D, hiddenUnits: H, vocabSize: V } = config;
  // Short texts are mostly padding (id 0): a 9-word text averages 91 copies of row 0, so any
  // rounding error of that row goes straight into the pooled vector instead of averaging out.
  // Quantising E − E[0] makes row 0 exactly zero; since the pooling is a mean and the next layer
  // is linear, mean(E[ids]) · W = mean((E − E[0])[ids]) · W + E[0] · W, and E[0] · W is folded
  // into the first bias. Rows of real words keep their rounding error, but it is divided by the
  // sequence length in the mean.
  const padding = weights.embedding.slice(0, D);
  const shifted = new Float32Array(weights.embedding.length);
  for (let row = 0; row < V; row++) {
    for (let d = 0; d < D; d++) shifted[row * D + d] = weights.embedding[row * D + d]! - padding[d]!;
  }
  // One scale per input row (axis 0). With one scale per output column, or per tensor, ONNX
  // Runtime rewrites DequantizeLinear → MatMul into MatMulNBits, which also quantises the
  // activations and moves the output by up to ~1e-2; with row scales the MatMul stays a float
  // MatMul over exactly the dequantised weights.
  const dense1Kernel = quantizeInt8(weights.dense1Kernel, [D, H], 0);
  const kernel = dequantizeInt8(dense1Kernel);
  const dense1Bias = new Float32Array(H);
  for (let h = 0; h < H; h++) {
    let z = weights.dense1Bias[h]!;
    for (let d = 0; d < D; d++) z += padding[d]! * kernel[d * H + h]!;
    dense1Bias[h] = z;
  }
  return {
    // Per-column scales let the Gather run on int8 rows and dequantise only the gathered
    // [batch, seq, dim] slice along its last axis; per-row scales would need a second Gather or
    // a dequantisation of the whole table on every run.
    embedding: quantizeInt8(shifted, [V, D], 1),
    dense1Kernel,
    // A single output column leaves no good choice: per tensor is rewritten as above, per row is
    // one scale per weight (larger than the float32 kernel). Its 64 bytes stay float32.
    dense2Kernel: weights.dense2Kernel,
    dense1Bias,
    dense2Bias: weights.dense2Bias,
  };
}

/** The float weights the int8 model computes with, for checking it against the TypeScript forward pass. */
export function dequantizeSentimentWeights(q: QuantizedSentimentWeights): SentimentWeights {
  return {
    embedding: dequantizeInt8(q.embedding),
    dense1Kernel: dequantizeInt8(q.dense1Kernel),
    dense1Bias: q.dense1Bias,
    dense2Kernel: q.dense2Kernel,
    dense2Bias: q.dense2Bias,
  };
}

export interface SentimentExportOptions {
  config: SentimentModelConfig;
  docString?: string;
  /** Extra ModelProto metadata (name, version, …). */
  metadata?: Readonly<Record<string, string>>;
}

/** Adds an int8 initializer with its scale and zero point, and a DequantizeLinear node reading `input`. */
function dequantizeNode(g: OnnxGraphBuilder, options: { name: string; tensor: Int8Tensor; input: string; axis?: number }): string {
  const { name, tensor } = options;
  const perAxis = tensor.axis !== null;
  const scale = g.initializer(`${name}_scale`, tensor.scales, perAxis ? [tensor.scales.length] : []);
  const zeroPoint = g.initializer(`${name}_zero_point`, new Int8Array(tensor.scales.length), perAxis ? [tensor.scales.length] : []);
  return g.node({
    op: 'DequantizeLinear',
    name: `${name}_dequantize`,
    inputs: [options.input, scale, zeroPoint],
    outputs: [`${name}_dequantized`],
    attributes: perAxis ? { axis: { int: options.axis ?? tensor.axis! } } : {},
  });
}

/**
 * Dense head shared by both precisions: pooled [batch, dim] → Dense(relu) → Dense(sigmoid).
 */
function addHead(
  g: OnnxGraphBuilder,
  pooled: string,
  kernels: { dense1: string; dense2: string },
  biases: Pick<SentimentWeights, 'dense1Bias' | 'dense2Bias'>,
): void {
  const b1 = g.initializer('dense1_bias', biases.dense1Bias, [biases.dense1Bias.length]);
  const b2 = g.initializer('dense2_bias', biases.dense2Bias, [1]);
  const h = g.node({ op: 'MatMul', name: 'dense1_matmul', inputs: [pooled, kernels.dense1] });
  const hb = g.node({ op: 'Add', name: 'dense1_bias_add', inputs: [h, b1] });
  const r = g.node({ op: 'Relu', name: 'dense1_relu', inputs: [hb] });
  const o = g.node({ op: 'MatMul', name: 'dense2_matmul', inputs: [r, kernels.dense2] });
  const logit = g.node({ op: 'Add', name: 'dense2_bias_add', inputs: [o, b2], outputs: ['logit'] });
  g.node({ op: 'Sigmoid', name: 'sigmoid', inputs: [logit], outputs: [SENTIMENT_OUTPUT] });
  g.output(SENTIMENT_OUTPUT, OnnxDataType.FLOAT, ['batch', 1]);
}

function poolEmbeddings(g: OnnxGraphBuilder, embedded: string): string {
  // GlobalAveragePooling1D without a mask: the mean over every position, padding included.
  return g.node({
    op: 'ReduceMean',
    name: 'global_average_pooling',
    inputs: [embedded],
    outputs: ['pooled'],
    attributes: { axes: { ints: [1] }, keepdims: { int: 0 } },
  });
}

/** fp32 ONNX graph: Gather → ReduceMean(axis 1) → MatMul/Add → Relu → MatMul/Add → Sigmoid. */
export function exportSentimentFp32(weights: SentimentWeights, options: SentimentExportOptions): Uint8Array {
  const { config } = options;
  const g = new OnnxGraphBuilder();
  const ids = g.input(SENTIMENT_INPUT, OnnxDataType.INT64, ['batch', config.sequenceLength]);
  const table = g.initializer('embedding', weights.embedding, [config.vocabSize, config.embeddingDim]);
  const w1 = g.initializer('dense1_kernel', weights.dense1Kernel, [config.embeddingDim, config.hiddenUnits]);
  const w2 = g.initializer('dense2_kernel', weights.dense2Kernel, [config.hiddenUnits, 1]);
  const embedded = g.node({ op: 'Gather', name: 'embedding_lookup', inputs: [table, ids], attributes: { axis: { int: 0 } } });
  addHead(g, poolEmbeddings(g, embedded), { dense1: w1, dense2: w2 }, weights);
  return g.toBytes({ graphName: 'sentiment', docString: options.docString, metadata: options.metadata });
}

/**
 * int8 ONNX graph: the Gather reads int8 rows, then DequantizeLinear (per column, axis 2 of the
 * gathered [batch, seq, dim] tensor) turns only those rows into floats; the first dense kernel is
 * a dequantised constant that the runtime folds at load time.
 */
export function exportSentimentInt8(q: QuantizedSentimentWeights, options: SentimentExportOptions): Uint8Array {
  const { config } = options;
  const g = new OnnxGraphBuilder();
  const ids = g.input(SENTIMENT_INPUT, OnnxDataType.INT64, ['batch', config.sequenceLength]);
  const table = g.initializer('embedding_quantized', q.embedding.values, [config.vocabSize, config.embeddingDim]);
  const gathered = g.node({ op: 'Gather', name: 'embedding_lookup', inputs: [table, ids], attributes: { axis: { int: 0 } } });
  const embedded = dequantizeNode(g, { name: 'embedding', tensor: q.embedding, input: gathered, axis: 2 });
  const pooled = poolEmbeddings(g, embedded);
  const w1q = g.initializer('dense1_kernel_quantized', q.dense1Kernel.values, [config.embeddingDim, config.hiddenUnits]);
  const w1 = dequantizeNode(g, { name: 'dense1_kernel', tensor: q.dense1Kernel, input: w1q });
  const w2 = g.initializer('dense2_kernel', q.dense2Kernel, [config.hiddenUnits, 1]);
  addHead(g, pooled, { dense1: w1, dense2: w2 }, q);
  return g.toBytes({ graphName: 'sentiment_int8', docString: options.docString, metadata: options.metadata });
}
