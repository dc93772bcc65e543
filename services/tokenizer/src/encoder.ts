import os from 'node:os';
import {
  inputProblems,
  tokenizerProblems,
  type EncodedTensor,
  type InputRole,
  type ModelManifest__Output,
  type SequenceSide,
  type TokenizerKind,
} from '@maas/protos';

/**
 * What a tokenizer kind contributes: the token ids of one text. Padding, truncation and tensor layout are
 * the same for every kind and live here, so the two kinds cannot drift apart in how they fill a batch.
 */
export interface TextTokenizer {
  readonly kind: TokenizerKind;
  /** Ids of the text's own tokens, without any special token. */
  contentIds(text: string): ArrayLike<number>;
  /** Special tokens the model expects before the content (e.g. [CLS]); kept when a text is truncated. */
  readonly prefixIds: readonly number[];
  /** Special tokens the model expects after the content (e.g. [SEP]); kept when a text is truncated. */
  readonly suffixIds: readonly number[];
}

export type { InputRole } from '@maas/protos';
export type IntDatatype = 'INT64' | 'INT32';
export type Side = SequenceSide;

/** One model input the tokenizer fills. */
export interface InputPlan {
  readonly name: string;
  readonly datatype: IntDatatype;
  readonly role: InputRole;
}

/** How a version's texts become tensors, read once from its manifest. */
export interface EncodingLayout {
  /** Row length: every text is padded or truncated to it. */
  readonly maxLength: number;
  /** 'pre': padding on the left (Keras default); 'post': on the right. */
  readonly paddingSide: Side;
  /** 'pre': a long text keeps its last tokens (Keras default); 'post': its first ones. */
  readonly truncationSide: Side;
  /** Written into input_ids padding positions. */
  readonly padId: number;
  /** The tensors to produce, in manifest order. */
  readonly inputs: readonly InputPlan[];
}

/** A manifest the tokenizer cannot serve (the registry validates manifests, so this means a contract gap). */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** A tokenizer file that cannot be loaded or is of a form this service does not support. */
export class TokenizerFileError extends Error {
  override readonly name = 'TokenizerFileError';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const TWO_POW_32 = 2 ** 32;

/**
 * Reads the encoding layout from a manifest, rejecting anything this service cannot write. The tokenizer and
 * input rules are the contract's (the registry enforced them at registration; a served manifest that breaks
 * them is a contract gap); on top of them this service needs rows of exactly [batch, max_length] and an INT32
 * input_ids that can hold pad_id.
 */
export function layoutFromManifest(manifest: ModelManifest__Output): EncodingLayout {
  const spec = manifest.tokenizer;
  if (!spec) throw new ManifestError('manifest has no tokenizer section');
  const problems = [...tokenizerProblems(spec), ...inputProblems(manifest)];
  manifest.inputs.forEach((input, index) => {
    if (input.shape.length !== 2) problems.push(`inputs[${index}].shape: the tokenizer writes [-1, ${spec.max_length}] (got [${input.shape.join(', ')}])`);
    if (input.datatype === 'INT32' && input.role === 'input_ids' && (spec.pad_id < INT32_MIN || spec.pad_id > INT32_MAX)) {
      problems.push(`inputs[${index}].datatype: INT32 cannot hold tokenizer.pad_id ${spec.pad_id}`);
    }
  });
  if (problems.length > 0) throw new ManifestError(`manifest of ${manifest.name} version ${manifest.version} cannot be encoded for: ${problems.join('; ')}`);
  return {
    maxLength: spec.max_length,
    paddingSide: spec.padding_side as Side,
    truncationSide: spec.truncation_side as Side,
    padId: spec.pad_id,
    inputs: manifest.inputs.map((input) => ({ name: input.name, datatype: input.datatype as IntDatatype, role: input.role as InputRole })),
  };
}

/** Fails a load whose layout leaves no room for content between the tokenizer's special tokens. */
export function checkLayoutFits(layout: EncodingLayout, tokenizer: TextTokenizer): void {
  const specials = tokenizer.prefixIds.length + tokenizer.suffixIds.length;
  if (layout.maxLength <= specials) {
    throw new ManifestError(`tokenizer.max_length ${layout.maxLength} leaves no room for text besides the ${specials} special tokens the tokenizer adds`);
  }
}

/** One tensor of an encoded batch (an EncodedTensor with every field set). */
export interface BatchTensor extends EncodedTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** A view into the batch's one buffer (see allocateTensors). */
  raw_contents: Buffer;
}

export interface EncodedBatch {
  /** One per layout input, in layout (manifest) order; shape [texts, maxLength]. */
  tensors: BatchTensor[];
  /** Per text: tokens including special tokens, before padding/truncation. */
  tokenCounts: number[];
  /** Per text: whether it lost tokens to maxLength. */
  truncated: boolean[];
}

// Tensors are written through Int32Array views in the platform's byte order; the wire wants little-endian.
if (os.endianness() !== 'LE') throw new Error('the tokenizer service writes little-endian tensors and needs a little-endian CPU');

/** A tensor being filled: 32-bit words over its part of the batch buffer; INT64 elements take two words. */
interface TensorWriter {
  readonly plan: InputPlan;
  readonly words: Int32Array;
  /** Words per element: 2 for INT64, 1 for INT32. */
  readonly stride: 1 | 2;
  readonly bytes: Buffer;
  /** Smallest and largest value written (0 for untouched elements, which stay zero): what narrowing picks by. */
  min: number;
  max: number;
}

/** A token id (or pad id) that the tensor's datatype cannot hold. */
export class IdRangeError extends Error {
  override readonly name = 'IdRangeError';
}

/** Writes `value` at element `index`; integers only, |value| < 2^53. */
function writeInt(writer: TensorWriter, index: number, value: number): void {
  if (writer.stride === 1) {
    writer.words[index] = value;
  } else {
    // Two's-complement halves; Int32Array assignment wraps the low half (ToInt32) as needed.
    const high = Math.floor(value / TWO_POW_32);
    writer.words[2 * index] = value - high * TWO_POW_32;
    writer.words[2 * index + 1] = high;
  }
}

/**
 * Copies `count` ids from `source[from]` to elements `at`... of the tensor. The hot loop of the service:
 * token ids fit in 32 bits, so an INT64 element is the id and its sign extension; larger values take the
 * general path.
 */
function writeIds(writer: TensorWriter, at: number, source: ArrayLike<number>, from: number, count: number): void {
  const words = writer.words;
  if (writer.stride === 1) {
    let { min, max } = writer;
    for (let k = 0; k < count; k++) {
      const value = source[from + k]!;
      // An Int32Array would wrap a larger id silently into another token.
      if ((value | 0) !== value) throw new IdRangeError(`token id ${value} does not fit the INT32 input ${writer.plan.name}`);
      words[at + k] = value;
      if (value > max) max = value;
      else if (value < min) min = value;
    }
    writer.min = min;
    writer.max = max;
    return;
  }
  for (let k = 0; k < count; k++) {
    const value = source[from + k]!;
    if ((value | 0) === value) {
      words[2 * (at + k)] = value;
      words[2 * (at + k) + 1] = value >> 31;
    } else {
      writeInt(writer, at + k, value);
    }
  }
}

/** Sets elements [start, end) to 1. */
function writeOnes(writer: TensorWriter, start: number, end: number): void {
  if (start < end && writer.max < 1) writer.max = 1;
  if (writer.stride === 1) {
    writer.words.fill(1, start, end);
  } else {
    for (let index = start; index < end; index++) writer.words[2 * index] = 1;
  }
}

/** Sets elements [start, end) to `value` (the buffer starts zeroed, so zero needs no writes). */
function writeFill(writer: TensorWriter, start: number, end: number, value: number): void {
  if (value === 0 || start >= end) return;
  if (value > writer.max) writer.max = value;
  if (value < writer.min) writer.min = value;
  if (writer.stride === 1) {
    writer.words.fill(value, start, end);
  } else {
    writeInt(writer, start, value);
    // Every element has the same 8 bytes: replicate the first one.
    const words = writer.words;
    const low = words[2 * start]!;
    const high = words[2 * start + 1]!;
    for (let index = start + 1; index < end; index++) {
      words[2 * index] = low;
      words[2 * index + 1] = high;
    }
  }
}

/**
 * Allocates one zeroed buffer for every tensor of the batch (each tensor's region 8-byte aligned so INT64
 * views are valid) and returns a writer per tensor. The tensors' raw_contents are views into it, so the
 * batch costs one allocation however many inputs the model has.
 */
function allocateTensors(inputs: readonly InputPlan[], elements: number, inScratch = false): TensorWriter[] {
  const sizes = inputs.map((input) => elements * (input.datatype === 'INT64' ? 8 : 4));
  const { offsets, total } = packedLayout(sizes);
  const memory = inScratch ? zeroedScratch(total) : new ArrayBuffer(total);
  return inputs.map((plan, index) => {
    const stride = plan.datatype === 'INT64' ? 2 : 1;
    const offset = offsets[index]!;
    return {
      plan,
      stride,
      words: new Int32Array(memory, offset, elements * stride),
      bytes: Buffer.from(memory, offset, sizes[index]!),
      min: 0,
      max: 0,
    };
  });
}

/** Offsets of tensors of `sizes` bytes laid end to end in one buffer, each 8-byte aligned, and the buffer's size. */
function packedLayout(sizes: readonly number[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += Math.ceil(size / 8) * 8;
  }
  return { offsets, total };
}

/**
 * The INT32 batch that narrow encoding writes first lives in one buffer per thread, reused from batch to batch
 * (encodeBatch is synchronous, so nothing else uses it meanwhile): only the narrowed copy is allocated per batch.
 */
let scratchMemory = new ArrayBuffer(0);

/** The scratch buffer, at least `bytes` long, its first `bytes` zeroed. */
function zeroedScratch(bytes: number): ArrayBuffer {
  if (scratchMemory.byteLength < bytes) {
    scratchMemory = new ArrayBuffer(Math.max(bytes, 2 * scratchMemory.byteLength));
    return scratchMemory;
  }
  new Uint8Array(scratchMemory, 0, bytes).fill(0);
  return scratchMemory;
}

/** The integer datatypes a narrow tensor may travel in, narrowest first (see EncodeRequest.narrow_integers). */
const NARROW_DATATYPES = [
  { datatype: 'UINT8', array: Uint8Array, min: 0, max: 0xff },
  { datatype: 'UINT16', array: Uint16Array, min: 0, max: 0xffff },
  { datatype: 'INT32', array: Int32Array, min: INT32_MIN, max: INT32_MAX },
] as const;

/** Copies INT32 tensors into one new buffer, each in the narrowest datatype that holds all of its values. */
function narrowTensors(writers: readonly TensorWriter[], rows: number, width: number): BatchTensor[] {
  const choices = writers.map((writer) => NARROW_DATATYPES.find((narrow) => writer.min >= narrow.min && writer.max <= narrow.max)!);
  const sizes = writers.map((writer, index) => writer.words.length * choices[index]!.array.BYTES_PER_ELEMENT);
  const { offsets, total } = packedLayout(sizes);
  const memory = new ArrayBuffer(total);
  return writers.map((writer, index) => {
    const choice = choices[index]!;
    // A typed-array copy converts element by element; exact, since every value lies in the chosen range.
    new choice.array(memory, offsets[index]!, writer.words.length).set(writer.words);
    return { name: writer.plan.name, datatype: choice.datatype, shape: [rows, width], raw_contents: Buffer.from(memory, offsets[index]!, sizes[index]!) };
  });
}

export interface EncodeOptions {
  tokenizer: TextTokenizer;
  layout: EncodingLayout;
  texts: readonly string[];
  /**
   * Each tensor in the narrowest of UINT8, UINT16 and INT32 that holds its values, instead of the manifest's
   * datatype (EncodeRequest.narrow_integers). Falls back to the manifest's datatypes when an id needs more.
   */
  narrowIntegers?: boolean;
}

/**
 * Encodes a batch: in the manifest's datatypes, or narrowed (see EncodeOptions.narrowIntegers) by writing
 * INT32 into a reused buffer first and then copying each tensor into the narrowest datatype its values fit.
 */
export function encodeBatch(options: EncodeOptions): EncodedBatch {
  const { layout } = options;
  if (!options.narrowIntegers || layout.padId < INT32_MIN || layout.padId > INT32_MAX) return encodeRows(options, layout.inputs);
  const int32Inputs = layout.inputs.map((plan) => ({ ...plan, datatype: 'INT32' as const }));
  let writers: TensorWriter[];
  let counts: Pick<EncodedBatch, 'tokenCounts' | 'truncated'>;
  try {
    ({ writers, ...counts } = writeRows(options, int32Inputs, true));
  } catch (error) {
    // An id beyond INT32 (no tokenizer we load makes one): the manifest's datatypes can still say it, or refuse it.
    if (error instanceof IdRangeError) return encodeRows(options, layout.inputs);
    throw error;
  }
  return { tensors: narrowTensors(writers, options.texts.length, layout.maxLength), ...counts };
}

/** A batch in the datatypes of `inputs`, its tensors views into one new buffer. */
function encodeRows(options: EncodeOptions, inputs: readonly InputPlan[]): EncodedBatch {
  const { writers, tokenCounts, truncated } = writeRows(options, inputs);
  const shape = [options.texts.length, options.layout.maxLength];
  return {
    tensors: writers.map((writer) => ({ name: writer.plan.name, datatype: writer.plan.datatype, shape: [...shape], raw_contents: writer.bytes })),
    tokenCounts,
    truncated,
  };
}

/**
 * Writes a batch in one pass: each text is tokenized once and its ids are written straight into the
 * preallocated tensors (no per-element objects).
 *
 * Truncation keeps the tokenizer's special tokens: a text whose prefix + content + suffix exceeds maxLength
 * loses content tokens only (its last ones with truncation 'post', its first ones with 'pre'), so a BERT
 * row still starts with [CLS] and ends with [SEP]. Padding fills input_ids with padId; attention_mask is 1
 * on the row's real tokens (specials included) and 0 on padding; token_type_ids is all zeros (one segment).
 */
function writeRows(
  options: EncodeOptions,
  inputs: readonly InputPlan[],
  /** Write into the per-thread scratch buffer (valid until the next batch) instead of a new one. */
  inScratch = false,
): { writers: TensorWriter[]; tokenCounts: number[]; truncated: boolean[] } {
  const { tokenizer, layout, texts } = options;
  const rows = texts.length;
  const width = layout.maxLength;
  const writers = allocateTensors(inputs, rows * width, inScratch);
  const idWriters = writers.filter((writer) => writer.plan.role === 'input_ids');
  const maskWriters = writers.filter((writer) => writer.plan.role === 'attention_mask');
  const prefix = tokenizer.prefixIds;
  const suffix = tokenizer.suffixIds;
  const contentRoom = width - prefix.length - suffix.length;
  const tokenCounts = new Array<number>(rows);
  const truncated = new Array<boolean>(rows);

  for (let row = 0; row < rows; row++) {
    const content = tokenizer.contentIds(texts[row]!);
    const total = prefix.length + content.length + suffix.length;
    const kept = Math.min(content.length, contentRoom);
    const contentStart = layout.truncationSide === 'pre' ? content.length - kept : 0;
    const used = prefix.length + kept + suffix.length;
    const rowStart = row * width;
    const tokensStart = rowStart + (layout.paddingSide === 'pre' ? width - used : 0);
    tokenCounts[row] = total;
    truncated[row] = total > width;

    for (const writer of idWriters) {
      if (layout.paddingSide === 'pre') writeFill(writer, rowStart, tokensStart, layout.padId);
      else writeFill(writer, tokensStart + used, rowStart + width, layout.padId);
      writeIds(writer, tokensStart, prefix, 0, prefix.length);
      writeIds(writer, tokensStart + prefix.length, content, contentStart, kept);
      writeIds(writer, tokensStart + prefix.length + kept, suffix, 0, suffix.length);
    }
    for (const writer of maskWriters) writeOnes(writer, tokensStart, tokensStart + used);
  }

  return { writers, tokenCounts, truncated };
}
