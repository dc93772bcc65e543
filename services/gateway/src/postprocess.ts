import { OUTPUT_ACTIVATIONS, type ModelInferResponse__Output, type OutputActivation } from '@maas/protos';
import { failedPrecondition, internal } from '@maas/shared';

/** One text's answer before it is tagged with its version. */
export interface LabelScore {
  label: string;
  /** Probability of `label`. */
  score: number;
}

/** An FP32 output tensor as rows × columns. */
export interface Fp32Matrix {
  values: Float32Array;
  rows: number;
  columns: number;
}

/**
 * The FP32 values of raw tensor bytes: a view over them, or over a copy when they are not aligned for one (a
 * Float32Array must start at a multiple of 4; received Buffers often sit at any offset of a shared pool). The
 * wire is little-endian, as are the hosts we run on (x86-64, arm64), so a view reads the values as sent.
 */
function fp32View(bytes: Uint8Array): Float32Array {
  const length = bytes.byteLength / 4;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, length);
  return new Float32Array(new Uint8Array(bytes).buffer, 0, length);
}

/**
 * Reads the first output of a ModelInfer response as FP32 rows: from `raw_output_contents` when the server
 * answered raw (ours does for raw requests), else from the typed `fp32_contents`. The first dimension is the
 * batch; the remaining ones are flattened into columns.
 */
export function readFirstOutput(response: ModelInferResponse__Output, expectedRows: number): Fp32Matrix {
  const output = response.outputs[0];
  if (!output) throw internal(`inference answered model ${response.model_name} without outputs`);
  if (output.datatype !== 'FP32') {
    throw failedPrecondition(
      `output ${output.name} of model ${response.model_name} version ${response.model_version} is ${output.datatype}; Classify reads FP32`,
    );
  }
  let values: Float32Array;
  const raw = response.raw_output_contents[0];
  if (raw) {
    if (raw.byteLength % 4 !== 0) throw internal(`output ${output.name}: ${raw.byteLength} raw bytes is not a whole number of FP32 values`);
    values = fp32View(raw);
  } else {
    values = Float32Array.from(output.contents?.fp32_contents ?? []);
  }
  if (expectedRows === 0 || values.length % expectedRows !== 0 || values.length === 0) {
    throw internal(`output ${output.name} has ${values.length} values for ${expectedRows} texts`);
  }
  return { values, rows: expectedRows, columns: values.length / expectedRows };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Applies the activation to one row in place. */
function activate(row: Float64Array, activation: OutputActivation): void {
  if (activation === 'sigmoid') {
    for (let index = 0; index < row.length; index += 1) row[index] = sigmoid(row[index]!);
  } else if (activation === 'softmax') {
    // Subtracting the maximum keeps exp() finite for large logits without changing the result.
    let max = -Infinity;
    for (const value of row) max = Math.max(max, value);
    let sum = 0;
    for (let index = 0; index < row.length; index += 1) {
      row[index] = Math.exp(row[index]! - max);
      sum += row[index]!;
    }
    for (let index = 0; index < row.length; index += 1) row[index] = row[index]! / sum;
  }
}

export interface LabelOptions {
  /** The manifest's labels, indexed by output column. */
  labels: readonly string[];
  /** The manifest's output_activation; empty means none. */
  activation: string;
  /** For error messages. */
  model: string;
  version: string;
}

/**
 * Turns model outputs into a label and its probability per row. A single column with two labels is a binary
 * classifier: p ≥ 0.5 reads as labels[1] with score p, else labels[0] with 1 − p. Several columns: the
 * argmax, scored by its activated value. Labels missing from the manifest fall back to the column index.
 */
export function labelRows(matrix: Fp32Matrix, options: LabelOptions): LabelScore[] {
  const activation = (options.activation || 'none') as OutputActivation;
  const where = `model ${options.model} version ${options.version}`;
  if (!OUTPUT_ACTIVATIONS.includes(activation))
    throw failedPrecondition(`${where}: unknown output_activation ${JSON.stringify(options.activation)} (none, sigmoid or softmax)`);
  const { labels } = options;
  const binary = matrix.columns === 1;
  if (binary && activation === 'softmax') throw failedPrecondition(`${where}: softmax over a single output column is always 1; use sigmoid or none`);
  if (binary && labels.length !== 2) throw failedPrecondition(`${where}: a single-output classifier needs exactly 2 labels, the manifest has ${labels.length}`);
  if (!binary && labels.length > 0 && labels.length !== matrix.columns) {
    throw failedPrecondition(`${where}: the model outputs ${matrix.columns} classes but the manifest has ${labels.length} labels`);
  }

  const results: LabelScore[] = new Array(matrix.rows);
  const row = new Float64Array(matrix.columns);
  for (let r = 0; r < matrix.rows; r += 1) {
    for (let c = 0; c < matrix.columns; c += 1) row[c] = matrix.values[r * matrix.columns + c]!;
    activate(row, activation);
    if (binary) {
      const p = row[0]!;
      results[r] = p >= 0.5 ? { label: labels[1]!, score: p } : { label: labels[0]!, score: 1 - p };
    } else {
      let best = 0;
      for (let c = 1; c < matrix.columns; c += 1) if (row[c]! > row[best]!) best = c;
      results[r] = { label: labels[best] ?? String(best), score: row[best]! };
    }
  }
  return results;
}
