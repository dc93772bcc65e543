import { SeededRandom, glorotUniform, uniformArray } from '../random.js';

/**
 * The classic Keras text classifier:
 *   Embedding(vocabSize, embeddingDim) → GlobalAveragePooling1D → Dense(hiddenUnits, relu) → Dense(1, sigmoid)
 * The embedding has no mask (as in Keras with `mask_zero=False`), so the average runs over all
 * `sequenceLength` positions, padding (id 0) included: row 0 is a trained vector like any other.
 */
export interface SentimentModelConfig {
  vocabSize: number;
  embeddingDim: number;
  hiddenUnits: number;
  sequenceLength: number;
}

export const DEFAULT_SENTIMENT_CONFIG: Readonly<SentimentModelConfig> = Object.freeze({
  vocabSize: 10000,
  embeddingDim: 16,
  hiddenUnits: 16,
  sequenceLength: 100,
});

/** Weights, row-major; kernels are [in, out] as in Keras (`y = x · kernel + bias`). */
export interface SentimentWeights {
  /** [vocabSize, embeddingDim] */
  embedding: Float32Array;
  /** [embeddingDim, hiddenUnits] */
  dense1Kernel: Float32Array;
  /** [hiddenUnits] */
  dense1Bias: Float32Array;
  /** [hiddenUnits, 1] */
  dense2Kernel: Float32Array;
  /** [1] */
  dense2Bias: Float32Array;
}

/** Names of the weight tensors, in a fixed order (used by optimizers and exporters). */
export const SENTIMENT_WEIGHT_NAMES = ['embedding', 'dense1Kernel', 'dense1Bias', 'dense2Kernel', 'dense2Bias'] as const;
export type SentimentWeightName = (typeof SENTIMENT_WEIGHT_NAMES)[number];

/**
 * Keras' default initialisers: Embedding U(-0.05, 0.05), Dense kernels Glorot-uniform, biases 0,
 * drawn from one seeded generator in layer order so that the same seed gives the same weights.
 */
export function initSentimentWeights(config: SentimentModelConfig, seed: number): SentimentWeights {
  const rng = new SeededRandom(seed);
  return {
    embedding: uniformArray(rng, config.vocabSize * config.embeddingDim, -0.05, 0.05),
    dense1Kernel: glorotUniform(rng, config.embeddingDim, config.hiddenUnits),
    dense1Bias: new Float32Array(config.hiddenUnits),
    dense2Kernel: glorotUniform(rng, config.hiddenUnits, 1),
    dense2Bias: new Float32Array(1),
  };
}

/** A batch of padded token ids: `count` rows of `sequenceLength` ids, row-major. */
export interface IdBatch {
  ids: Int32Array;
  count: number;
}

/** Activations of one forward pass, kept for the backward pass. */
export interface ForwardActivations {
  /** [n, embeddingDim] mean of the embedding rows. */
  pooled: Float32Array;
  /** [n, hiddenUnits] pre-activation of the hidden layer. */
  hiddenPre: Float32Array;
  /** [n] sigmoid outputs. */
  probabilities: Float32Array;
}

export function sigmoid(x: number): number {
  // Split by sign so that exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Forward pass over the rows listed in `rows` (or all rows). Returns activations in the order of
 * `rows`. Sums run in float64 and are stored as float32, which keeps results within float32
 * rounding of ONNX Runtime's float32 kernels.
 */
export function forwardSentiment(weights: SentimentWeights, config: SentimentModelConfig, batch: IdBatch, rows?: ArrayLike<number>): ForwardActivations {
  const { embeddingDim: D, hiddenUnits: H, sequenceLength: L, vocabSize: V } = config;
  const n = rows ? rows.length : batch.count;
  const pooled = new Float32Array(n * D);
  const hiddenPre = new Float32Array(n * H);
  const probabilities = new Float32Array(n);
  const sum = new Float64Array(D);
  const { embedding: E, dense1Kernel: W1, dense1Bias: b1, dense2Kernel: W2, dense2Bias: b2 } = weights;
  for (let i = 0; i < n; i++) {
    const row = rows ? rows[i]! : i;
    sum.fill(0);
    const base = row * L;
    for (let t = 0; t < L; t++) {
      const id = batch.ids[base + t]!;
      if (id < 0 || id >= V) throw new RangeError(`token id ${id} outside the embedding table [0, ${V})`);
      const off = id * D;
      for (let d = 0; d < D; d++) sum[d]! += E[off + d]!;
    }
    for (let d = 0; d < D; d++) pooled[i * D + d] = sum[d]! / L;
    let logit = b2[0]!;
    for (let h = 0; h < H; h++) {
      let z = b1[h]!;
      for (let d = 0; d < D; d++) z += pooled[i * D + d]! * W1[d * H + h]!;
      hiddenPre[i * H + h] = z;
      if (z > 0) logit += Math.fround(z) * W2[h]!;
    }
    probabilities[i] = sigmoid(logit);
  }
  return { pooled, hiddenPre, probabilities };
}

/** Probabilities for every row of a batch. */
export function predictSentiment(weights: SentimentWeights, config: SentimentModelConfig, batch: IdBatch): Float32Array {
  return forwardSentiment(weights, config, batch).probabilities;
}

/** Gradients of one batch. The embedding gradient is sparse: only rows that occur in the batch. */
export interface SentimentGradients {
  dense1Kernel: Float32Array;
  dense1Bias: Float32Array;
  dense2Kernel: Float32Array;
  dense2Bias: Float32Array;
  /** [vocabSize, embeddingDim] scratch; only rows listed in `embeddingRows` are meaningful. */
  embedding: Float32Array;
  /** The embedding rows touched by the batch, first `embeddingRowCount` entries. */
  embeddingRows: Int32Array;
  embeddingRowCount: number;
}

/** Allocates gradient buffers once; `backwardSentiment` reuses them batch after batch. */
export function createSentimentGradients(config: SentimentModelConfig): SentimentGradients & { rowSeen: Uint8Array } {
  return {
    dense1Kernel: new Float32Array(config.embeddingDim * config.hiddenUnits),
    dense1Bias: new Float32Array(config.hiddenUnits),
    dense2Kernel: new Float32Array(config.hiddenUnits),
    dense2Bias: new Float32Array(1),
    embedding: new Float32Array(config.vocabSize * config.embeddingDim),
    embeddingRows: new Int32Array(config.vocabSize),
    embeddingRowCount: 0,
    rowSeen: new Uint8Array(config.vocabSize),
  };
}

/** Keras clips probabilities to [ε, 1-ε] before taking logs, ε = 1e-7. */
const EPSILON = 1e-7;

export interface BatchResult {
  /** Mean (class-weighted) binary cross-entropy of the batch. */
  loss: number;
  /** Rows predicted correctly (threshold 0.5). */
  correct: number;
}

/**
 * Forward + backward for the rows `rows` of `data`, filling `grads` with the gradient of the mean
 * class-weighted binary cross-entropy (Keras' `sum_over_batch_size` reduction).
 */
export function backwardSentiment(options: {
  weights: SentimentWeights;
  config: SentimentModelConfig;
  data: IdBatch;
  labels: Uint8Array;
  rows: ArrayLike<number>;
  grads: SentimentGradients & { rowSeen: Uint8Array };
  classWeight: readonly [number, number];
}): BatchResult {
  const { weights, config, data, labels, rows, grads, classWeight } = options;
  const { embeddingDim: D, hiddenUnits: H, sequenceLength: L } = config;
  const act = forwardSentiment(weights, config, data, rows);
  const n = rows.length;

  // Clear only what the previous batch touched: the embedding gradient is sparse.
  for (let r = 0; r < grads.embeddingRowCount; r++) {
    const row = grads.embeddingRows[r]!;
    grads.embedding.fill(0, row * D, row * D + D);
    grads.rowSeen[row] = 0;
  }
  grads.embeddingRowCount = 0;
  grads.dense1Kernel.fill(0);
  grads.dense1Bias.fill(0);
  grads.dense2Kernel.fill(0);
  grads.dense2Bias.fill(0);

  const W1 = weights.dense1Kernel;
  const W2 = weights.dense2Kernel;
  const dHidden = new Float64Array(H);
  const dPooled = new Float64Array(D);
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    const y = labels[row]!;
    const p = act.probabilities[i]!;
    const w = classWeight[y]!;
    const pc = Math.min(Math.max(p, EPSILON), 1 - EPSILON);
    lossSum += -w * (y === 1 ? Math.log(pc) : Math.log(1 - pc));
    if ((p >= 0.5 ? 1 : 0) === y) correct++;

    // d(loss)/d(logit) of sigmoid + cross-entropy is (p - y); the clip only matters for the value.
    const dLogit = (w * (p - y)) / n;
    grads.dense2Bias[0]! += dLogit;
    for (let h = 0; h < H; h++) {
      const z = act.hiddenPre[i * H + h]!;
      if (z > 0) {
        grads.dense2Kernel[h]! += z * dLogit;
        dHidden[h] = dLogit * W2[h]!;
      } else {
        dHidden[h] = 0;
      }
    }
    dPooled.fill(0);
    for (let d = 0; d < D; d++) {
      const x = act.pooled[i * D + d]!;
      let acc = 0;
      for (let h = 0; h < H; h++) {
        const g = dHidden[h]!;
        grads.dense1Kernel[d * H + h]! += x * g;
        acc += g * W1[d * H + h]!;
      }
      dPooled[d] = acc / L;
    }
    for (let h = 0; h < H; h++) grads.dense1Bias[h]! += dHidden[h]!;

    // The mean over positions spreads dPooled / L onto every occurrence of a token.
    const base = row * L;
    for (let t = 0; t < L; t++) {
      const id = data.ids[base + t]!;
      if (grads.rowSeen[id] === 0) {
        grads.rowSeen[id] = 1;
        grads.embeddingRows[grads.embeddingRowCount++] = id;
      }
      const off = id * D;
      for (let d = 0; d < D; d++) grads.embedding[off + d]! += dPooled[d]!;
    }
  }
  return { loss: lossSum / n, correct };
}
