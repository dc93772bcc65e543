import { OnnxGraphBuilder } from '../onnx/graph-builder.js';
import { OnnxDataType } from '../onnx/onnx-schema.js';
import { SeededRandom, normalArray } from '../random.js';

/**
 * A BERT-shaped encoder for compute benchmarks: word + position + token-type-0 embeddings,
 * LayerNormalization, `layers` post-norm blocks of multi-head self-attention (additive mask) and
 * a GELU (erf) feed-forward, then the [CLS] vector → Dense(numLabels). Its weights are random
 * (seeded, N(0, initStd) as BERT initialises), not trained: it exists to cost what a real
 * encoder of this shape costs, with outputs that are finite and far from saturation.
 */
export interface EncoderConfig {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxSequenceLength: number;
  numLabels: number;
  initStd: number;
  layerNormEpsilon: number;
  seed: number;
}

export const DEFAULT_ENCODER_CONFIG: Readonly<Omit<EncoderConfig, 'vocabSize'>> = Object.freeze({
  hiddenSize: 384,
  layers: 4,
  heads: 6,
  intermediateSize: 1536,
  maxSequenceLength: 128,
  numLabels: 2,
  initStd: 0.02,
  layerNormEpsilon: 1e-12,
  seed: 1234,
});

export const ENCODER_INPUTS = { ids: 'input_ids', mask: 'attention_mask' } as const;
export const ENCODER_OUTPUT = 'logits';

/** Number of weights of an encoder of this shape (for reporting). */
export function encoderParameterCount(c: EncoderConfig): number {
  const h = c.hiddenSize;
  const embeddings = (c.vocabSize + c.maxSequenceLength + 2) * h + 2 * h;
  const layer = 4 * (h * h + h) + 2 * (h * c.intermediateSize) + c.intermediateSize + h + 4 * h;
  return embeddings + c.layers * layer + h * c.numLabels + c.numLabels;
}

export function exportEncoderOnnx(config: EncoderConfig, options: { docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
  const { hiddenSize: H, heads, intermediateSize: F, maxSequenceLength: S } = config;
  if (H % heads !== 0) throw new Error(`hiddenSize ${H} is not divisible by ${heads} heads`);
  const headSize = H / heads;
  const rng = new SeededRandom(config.seed);
  const g = new OnnxGraphBuilder();
  const weight = (name: string, dims: number[]): string =>
    g.initializer(
      name,
      normalArray(
        rng,
        dims.reduce((a, b) => a * b, 1),
        config.initStd,
      ),
      dims,
    );
  const zeros = (name: string, n: number): string => g.initializer(name, new Float32Array(n), [n]);
  const ones = (name: string, n: number): string => g.initializer(name, new Float32Array(n).fill(1), [n]);

  const ids = g.input(ENCODER_INPUTS.ids, OnnxDataType.INT64, ['batch', S]);
  const mask = g.input(ENCODER_INPUTS.mask, OnnxDataType.INT64, ['batch', S]);

  // Shared constants.
  const zeroIndex = g.int64('index_zero', [0], []);
  const headShape = g.int64('shape_heads', [0, 0, heads, headSize]);
  const mergedShape = g.int64('shape_merged', [0, 0, H]);
  const maskAxes = g.int64('mask_unsqueeze_axes', [1, 2]);
  const one = g.float('one', [1], []);
  const half = g.float('half', [0.5], []);
  const sqrt2 = g.float('sqrt2', [Math.SQRT2], []);
  const queryScale = g.float('query_scale', [1 / Math.sqrt(headSize)], []);
  // BERT's additive mask value: exp(-10000 + small) is exactly 0 in float32, so padding gets no attention.
  const maskValue = g.float('mask_value', [-10000], []);

  const layerNorm = (name: string, x: string): string =>
    g.node({
      op: 'LayerNormalization',
      name,
      inputs: [x, ones(`${name}_gamma`, H), zeros(`${name}_beta`, H)],
      outputs: [`${name}_out`],
      attributes: { axis: { int: -1 }, epsilon: { float: config.layerNormEpsilon } },
    });
  const dense = (name: string, x: string, inDim: number, outDim: number): string => {
    const m = g.node({ op: 'MatMul', name: `${name}_matmul`, inputs: [x, weight(`${name}_kernel`, [inDim, outDim])] });
    return g.node({ op: 'Add', name: `${name}_bias_add`, inputs: [m, zeros(`${name}_bias`, outDim)] });
  };

  // Embeddings: positions are 0..S-1 for every row, so the position table adds as a whole.
  const words = g.node({
    op: 'Gather',
    name: 'word_embeddings_lookup',
    inputs: [weight('word_embeddings', [config.vocabSize, H]), ids],
    attributes: { axis: { int: 0 } },
  });
  const typeRow = g.node({
    op: 'Gather',
    name: 'token_type_lookup',
    inputs: [weight('token_type_embeddings', [2, H]), zeroIndex],
    attributes: { axis: { int: 0 } },
  });
  const withPositions = g.node({ op: 'Add', name: 'add_position_embeddings', inputs: [words, weight('position_embeddings', [S, H])] });
  const embedded = g.node({ op: 'Add', name: 'add_token_type_embeddings', inputs: [withPositions, typeRow] });
  let hidden = layerNorm('embeddings_layer_norm', embedded);

  // Additive attention mask [batch, 1, 1, S]: 0 where attended, -10000 where padded.
  const maskFloat = g.node({ op: 'Cast', name: 'mask_cast', inputs: [mask], attributes: { to: { int: OnnxDataType.FLOAT } } });
  const inverted = g.node({ op: 'Sub', name: 'mask_invert', inputs: [one, maskFloat] });
  const additive = g.node({ op: 'Mul', name: 'mask_scale', inputs: [inverted, maskValue] });
  const maskBias = g.node({ op: 'Unsqueeze', name: 'mask_unsqueeze', inputs: [additive, maskAxes] });

  const splitHeads = (name: string, x: string, perm: number[]): string => {
    const r = g.node({ op: 'Reshape', name: `${name}_reshape`, inputs: [x, headShape] });
    return g.node({ op: 'Transpose', name: `${name}_transpose`, inputs: [r], attributes: { perm: { ints: perm } } });
  };

  for (let l = 0; l < config.layers; l++) {
    const p = `layer${l}`;
    const q = g.node({ op: 'Mul', name: `${p}_query_scale`, inputs: [dense(`${p}_query`, hidden, H, H), queryScale] });
    const qh = splitHeads(`${p}_query`, q, [0, 2, 1, 3]); // [B, heads, S, d]
    const kh = splitHeads(`${p}_key`, dense(`${p}_key`, hidden, H, H), [0, 2, 3, 1]); // [B, heads, d, S]
    const vh = splitHeads(`${p}_value`, dense(`${p}_value`, hidden, H, H), [0, 2, 1, 3]); // [B, heads, S, d]
    const scores = g.node({ op: 'MatMul', name: `${p}_scores`, inputs: [qh, kh] });
    const masked = g.node({ op: 'Add', name: `${p}_scores_mask`, inputs: [scores, maskBias] });
    const probs = g.node({ op: 'Softmax', name: `${p}_softmax`, inputs: [masked], attributes: { axis: { int: -1 } } });
    const context = g.node({ op: 'MatMul', name: `${p}_context`, inputs: [probs, vh] });
    const contextT = g.node({ op: 'Transpose', name: `${p}_context_transpose`, inputs: [context], attributes: { perm: { ints: [0, 2, 1, 3] } } });
    const merged = g.node({ op: 'Reshape', name: `${p}_context_reshape`, inputs: [contextT, mergedShape] });
    const attention = dense(`${p}_attention_output`, merged, H, H);
    hidden = layerNorm(`${p}_attention_layer_norm`, g.node({ op: 'Add', name: `${p}_attention_residual`, inputs: [attention, hidden] }));

    // GELU, erf form: x · 0.5 · (1 + erf(x / √2)).
    const up = dense(`${p}_intermediate`, hidden, H, F);
    const erf = g.node({ op: 'Erf', name: `${p}_gelu_erf`, inputs: [g.node({ op: 'Div', name: `${p}_gelu_div`, inputs: [up, sqrt2] })] });
    const gate = g.node({ op: 'Add', name: `${p}_gelu_add`, inputs: [erf, one] });
    const gelu = g.node({ op: 'Mul', name: `${p}_gelu_half`, inputs: [g.node({ op: 'Mul', name: `${p}_gelu_mul`, inputs: [up, gate] }), half] });
    const down = dense(`${p}_output`, gelu, F, H);
    hidden = layerNorm(`${p}_output_layer_norm`, g.node({ op: 'Add', name: `${p}_output_residual`, inputs: [down, hidden] }));
  }

  const cls = g.node({ op: 'Gather', name: 'cls_select', inputs: [hidden, zeroIndex], attributes: { axis: { int: 1 } } });
  const projected = g.node({ op: 'MatMul', name: 'classifier_matmul', inputs: [cls, weight('classifier_kernel', [H, config.numLabels])] });
  g.node({ op: 'Add', name: 'classifier_bias_add', inputs: [projected, zeros('classifier_bias', config.numLabels)], outputs: [ENCODER_OUTPUT] });
  g.output(ENCODER_OUTPUT, OnnxDataType.FLOAT, ['batch', config.numLabels]);
  return g.toBytes({ graphName: 'encoder_bench', docString: options.docString, metadata: options.metadata });
}
