/**
 * The Open Inference Protocol tensor codec: requests' typed `contents` or `raw_input_contents` → host tensors
 * (validated against the model's signature), and host tensors → a response's typed `contents` or
 * `raw_output_contents`. Pure functions; every problem with a request is an INVALID_ARGUMENT naming the input
 * and what was expected.
 *
 * Precision note: the contract's loader reads int64/uint64 as JS numbers, so typed INT64/UINT64 values beyond
 * ±2^53 lose precision on the way in and out; raw contents carry them exactly.
 */
import type { InferTensorContents, InferTensorContents__Output, ModelInferRequest__Output, ModelInferResponse } from '@maas/protos';
import { invalidArgument, quote } from '@maas/shared';
import {
  BytesFormatError,
  CONTENTS_FIELDS,
  DATATYPE_NAMES,
  DATATYPES,
  type ContentsField,
  type Datatype,
  elementCount,
  formatShape,
  type HostTensor,
  isDatatype,
  numericView,
  packBytesElements,
  splitBytesElements,
  widenIntegers,
  widensExactly,
} from './datatypes.js';

/** An input or output of a model as the server serves it; -1 marks a dynamic dimension. */
export interface TensorSignature {
  name: string;
  datatype: Datatype;
  shape: number[];
  /**
   * For an integer input that indexes an embedding table (token ids): the table's rows. Values must lie in
   * [0, indexBound); checked here so ONNX Runtime never sees one outside it (Gather would also take -rows..-1,
   * counting from the end, but no token id is negative: one is a caller's bug, not a lookup).
   */
  indexBound?: number;
}

/** What a loaded model version accepts and produces. */
export interface ModelSignature {
  model: string;
  version: string;
  /** In the manifest's order (the order raw_input_contents of ModelMetadata-driven clients follow). */
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /** Whether dim 0 of every input and output is dynamic: then requests can be stacked along it into batches. */
  batchable: boolean;
}

export interface DecodeLimits {
  /** Largest tensor accepted, in bytes (MAX_TENSOR_BYTES). */
  maxTensorBytes: number;
}

/** A validated request. */
export interface DecodedInferRequest {
  /** One per model input, in the signature's order. */
  inputs: HostTensor[];
  /** Rows (dim 0) of every input of a batchable model; 1 for a model that cannot batch. */
  rows: number;
  /** Whether the request used raw_input_contents (the response then answers raw too). */
  raw: boolean;
  /** The outputs to return, in the order the client asked for them (all, in signature order, when it asked for none). */
  outputs: string[];
}

/** ", or a narrower integer datatype: UINT8, ..." for a datatype that narrower ones widen to; "" otherwise. */
function narrowerNote(datatype: Datatype): string {
  const narrower = DATATYPE_NAMES.filter((candidate) => widensExactly(candidate, datatype));
  return narrower.length > 0 ? ` (or a narrower integer datatype it holds exactly: ${narrower.join(', ')})` : '';
}

const describe = (spec: TensorSignature) => `${spec.name} (${spec.datatype} ${formatShape(spec.shape)})`;

/** Names of the `contents` fields that hold any element. */
function filledFields(contents: InferTensorContents__Output | null): ContentsField[] {
  if (!contents) return [];
  return CONTENTS_FIELDS.filter((field) => (contents[field]?.length ?? 0) > 0);
}

function checkShape(input: { name: string; shape: number[] }, spec: TensorSignature): void {
  const { name, shape } = input;
  if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw invalidArgument(`input ${quote(name)} has shape ${formatShape(shape)}; every dimension must be an integer ≥ 0`);
  }
  if (shape.length !== spec.shape.length) {
    throw invalidArgument(
      `input ${quote(name)} has shape ${formatShape(shape)} (rank ${shape.length}); the model expects rank ${spec.shape.length}: ${formatShape(spec.shape)}`,
    );
  }
  spec.shape.forEach((expected, axis) => {
    if (expected >= 0 && shape[axis] !== expected) {
      throw invalidArgument(
        `input ${quote(name)} has shape ${formatShape(shape)}; dimension ${axis} must be ${expected} (model shape ${formatShape(spec.shape)})`,
      );
    }
  });
}

function tooLarge(name: string, bytes: number, limits: DecodeLimits): never {
  throw invalidArgument(`input ${quote(name)} is ${bytes} bytes; the limit is ${limits.maxTensorBytes} bytes (MAX_TENSOR_BYTES)`);
}

function decodeRaw(name: string, index: number, datatype: Datatype, shape: number[], raw: Buffer, limits: DecodeLimits): Uint8Array {
  const count = elementCount(shape);
  if (raw.byteLength > limits.maxTensorBytes) tooLarge(name, raw.byteLength, limits);
  if (datatype === 'BYTES') {
    let elements: Uint8Array[];
    try {
      elements = splitBytesElements(raw);
    } catch (error) {
      if (error instanceof BytesFormatError)
        throw invalidArgument(`input ${quote(name)} raw_input_contents[${index}] is not valid BYTES data: ${error.message}`);
      throw error;
    }
    if (elements.length !== count) {
      throw invalidArgument(
        `input ${quote(name)} raw_input_contents[${index}] holds ${elements.length} BYTES elements; shape ${formatShape(shape)} needs ${count}`,
      );
    }
    return raw;
  }
  const size = DATATYPES[datatype].elementBytes;
  if (raw.byteLength !== count * size) {
    throw invalidArgument(
      `input ${quote(name)} raw_input_contents[${index}] has ${raw.byteLength} bytes; shape ${formatShape(shape)} of ${datatype} needs ${count * size} (${count} elements × ${size} bytes)`,
    );
  }
  return raw;
}

/** Typed element values → the tensor's bytes (range-checked for narrow integer types). */
function contentsToBytes(name: string, datatype: Datatype, contents: InferTensorContents__Output): Uint8Array {
  const info = DATATYPES[datatype];
  if (!info.field) throw invalidArgument(`input ${quote(name)} is ${datatype}, which travels only as raw bytes: send it in raw_input_contents`);
  if (datatype === 'BYTES') return packBytesElements(contents.bytes_contents);
  if (datatype === 'BOOL') return Uint8Array.from(contents.bool_contents, (value) => (value ? 1 : 0));
  const values = contents[info.field] as number[];
  const array = new info.array!(values.length);
  if (array instanceof BigInt64Array || array instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) array[i] = BigInt(values[i]!);
    if (array instanceof BigUint64Array && values.some((value) => value < 0)) {
      throw invalidArgument(`input ${quote(name)} has a negative value in uint64_contents`);
    }
  } else {
    if (info.range) {
      const [min, max] = info.range;
      for (let i = 0; i < values.length; i++) {
        const value = values[i]!;
        if (value < min || value > max) {
          throw invalidArgument(`input ${quote(name)} element ${i} is ${value}, outside the ${datatype} range [${min}, ${max}]`);
        }
      }
    }
    array.set(values);
  }
  return new Uint8Array(array.buffer);
}

function decodeTyped(name: string, datatype: Datatype, shape: number[], contents: InferTensorContents__Output | null, limits: DecodeLimits): Uint8Array {
  const info = DATATYPES[datatype];
  const count = elementCount(shape);
  if (!info.field) throw invalidArgument(`input ${quote(name)} is ${datatype}, which travels only as raw bytes: send it in raw_input_contents`);
  const filled = filledFields(contents);
  const wrong = filled.filter((field) => field !== info.field);
  if (wrong.length > 0) {
    throw invalidArgument(`input ${quote(name)} is ${datatype}, whose elements go in contents.${info.field}; it carries ${wrong.join(', ')}`);
  }
  if (!contents || filled.length === 0) {
    if (count === 0) return new Uint8Array(0);
    throw invalidArgument(`input ${quote(name)} has no data: send its ${count} elements in contents.${info.field} or in raw_input_contents`);
  }
  const held = contents[info.field].length;
  if (held !== count) {
    throw invalidArgument(`input ${quote(name)} has shape ${formatShape(shape)} (${count} elements) but contents.${info.field} holds ${held}`);
  }
  if (datatype === 'BYTES') {
    const bytes = contents.bytes_contents.reduce((sum, element) => sum + 4 + element.byteLength, 0);
    if (bytes > limits.maxTensorBytes) tooLarge(name, bytes, limits);
  }
  return contentsToBytes(name, datatype, contents);
}

/**
 * Throws INVALID_ARGUMENT naming the first element of an index input outside [0, bound). 64-bit elements are
 * read as two 32-bit words (in range iff the high word is 0 and the low one is below the bound), so a batch of
 * INT64 ids costs no BigInt per element.
 */
function checkIndexBound(name: string, datatype: Datatype, bound: number, data: Uint8Array): void {
  if (!DATATYPES[datatype].array || datatype === 'BOOL') return;
  let outside = -1;
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const words = numericView('UINT32', data) as Uint32Array;
    for (let word = 0; word < words.length; word += 2) {
      if (words[word + 1] !== 0 || words[word]! >= bound) {
        outside = word / 2;
        break;
      }
    }
  } else {
    const view = numericView(datatype, data) as ArrayLike<number>;
    for (let index = 0; index < view.length; index++) {
      const value = view[index]!;
      if (value < 0 || value >= bound) {
        outside = index;
        break;
      }
    }
  }
  if (outside < 0) return;
  const value = String(numericView(datatype, data)[outside]);
  throw invalidArgument(`input ${quote(name)} element ${outside} is ${value}; the model's vocabulary has ${bound} entries, so ids must be in [0, ${bound})`);
}

/**
 * Validates a ModelInferRequest against the model's signature and turns it into host tensors. Throws
 * INVALID_ARGUMENT naming the input and what was expected.
 */
export function decodeInferRequest(request: ModelInferRequest__Output, signature: ModelSignature, limits: DecodeLimits): DecodedInferRequest {
  const where = `model ${quote(signature.model)} version ${quote(signature.version)}`;
  const expectedInputs = signature.inputs.map(describe).join(', ');
  if (request.inputs.length === 0) throw invalidArgument(`the request has no inputs; ${where} expects ${expectedInputs}`);

  const raw = request.raw_input_contents.length > 0;
  if (raw && request.raw_input_contents.length !== request.inputs.length) {
    throw invalidArgument(
      `raw_input_contents has ${request.raw_input_contents.length} entries but the request has ${request.inputs.length} inputs; send one per input, in input order`,
    );
  }

  const specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
  const decoded = new Map<string, HostTensor>();
  request.inputs.forEach((input, index) => {
    const spec = specs.get(input.name);
    if (!spec) throw invalidArgument(`unknown input ${quote(input.name)}; ${where} has inputs ${expectedInputs}`);
    if (decoded.has(input.name)) throw invalidArgument(`input ${quote(input.name)} appears more than once`);
    // An integer input may come narrower than the model's datatype (UINT16 token ids for an INT64 input: a
    // quarter of the bytes on the wire) and is widened here, value for value; anything else must match.
    const wire = isDatatype(input.datatype) && widensExactly(input.datatype, spec.datatype) ? input.datatype : spec.datatype;
    if (input.datatype !== wire) {
      throw invalidArgument(
        `input ${quote(input.name)} has datatype ${quote(input.datatype)}; the model expects ${spec.datatype}${narrowerNote(spec.datatype)}`,
      );
    }
    const shape = input.shape.map(Number);
    checkShape({ name: input.name, shape }, spec);
    const elementBytes = DATATYPES[spec.datatype].elementBytes;
    if (elementBytes > 0 && elementCount(shape) * elementBytes > limits.maxTensorBytes) {
      tooLarge(input.name, elementCount(shape) * elementBytes, limits);
    }
    if (raw && filledFields(input.contents).length > 0) {
      throw invalidArgument(`input ${quote(input.name)} has typed contents but the request also uses raw_input_contents; use one or the other for all inputs`);
    }
    const data = raw
      ? decodeRaw(input.name, index, wire, shape, request.raw_input_contents[index]!, limits)
      : decodeTyped(input.name, wire, shape, input.contents, limits);
    // Checked before widening: fewer bytes to read.
    if (spec.indexBound !== undefined) checkIndexBound(input.name, wire, spec.indexBound, data);
    decoded.set(
      input.name,
      wire === spec.datatype
        ? { name: input.name, datatype: spec.datatype, shape, data }
        : { name: input.name, datatype: spec.datatype, shape, data: widenIntegers(wire, data, spec.datatype), ownsBuffer: true },
    );
  });

  const missing = signature.inputs.filter((spec) => !decoded.has(spec.name));
  if (missing.length > 0) throw invalidArgument(`missing input ${missing.map((spec) => `${quote(describe(spec))}`).join(', ')} for ${where}`);
  const inputs = signature.inputs.map((spec) => decoded.get(spec.name)!);

  let rows = 1;
  if (signature.batchable) {
    rows = inputs[0]!.shape[0]!;
    for (const input of inputs) {
      if (input.shape[0] !== rows) {
        throw invalidArgument(
          `input ${quote(input.name)} has ${input.shape[0]} rows (dimension 0) but input ${quote(inputs[0]!.name)} has ${rows}; all inputs must have the same batch size`,
        );
      }
    }
    if (rows === 0) throw invalidArgument(`input ${quote(inputs[0]!.name)} has 0 rows; send at least one`);
  }

  const outputNames = new Set(signature.outputs.map((spec) => spec.name));
  const outputs: string[] = [];
  for (const requested of request.outputs) {
    if (!outputNames.has(requested.name)) {
      throw invalidArgument(`unknown output ${quote(requested.name)}; ${where} has outputs ${signature.outputs.map(describe).join(', ')}`);
    }
    if (outputs.includes(requested.name)) throw invalidArgument(`output ${quote(requested.name)} is requested more than once`);
    outputs.push(requested.name);
  }
  if (outputs.length === 0) outputs.push(...signature.outputs.map((spec) => spec.name));

  return { inputs, rows, raw, outputs };
}

/** A tensor's bytes → typed contents (the one field its datatype uses). Not for FP16, which is raw only. */
export function bytesToContents(tensor: HostTensor): InferTensorContents {
  const info = DATATYPES[tensor.datatype];
  if (!info.field) throw new TypeError(`${tensor.datatype} has no typed contents field`);
  if (tensor.datatype === 'BYTES')
    return { bytes_contents: splitBytesElements(tensor.data).map((element) => Buffer.from(element.buffer, element.byteOffset, element.byteLength)) };
  if (tensor.datatype === 'BOOL') return { bool_contents: Array.from(tensor.data, (value) => value !== 0) };
  const view = numericView(tensor.datatype, tensor.data);
  const values = view instanceof BigInt64Array || view instanceof BigUint64Array ? Array.from(view, Number) : Array.from(view as ArrayLike<number>);
  return { [info.field]: values };
}

export interface EncodeResponseOptions {
  modelName: string;
  modelVersion: string;
  id: string;
  outputs: HostTensor[];
  /** Answer in raw_output_contents (the request was raw). A typed answer switches to raw when an output is FP16. */
  raw: boolean;
}

/**
 * Builds the ModelInferResponse. Typed when the request was typed, except that an FP16 output (which has no
 * typed field) makes the whole response raw: clients read raw_output_contents whenever it is present.
 */
export function encodeInferResponse(options: EncodeResponseOptions): ModelInferResponse {
  const raw = options.raw || options.outputs.some((tensor) => DATATYPES[tensor.datatype].field === null);
  return {
    model_name: options.modelName,
    model_version: options.modelVersion,
    id: options.id,
    outputs: options.outputs.map((tensor) => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      ...(raw ? {} : { contents: bytesToContents(tensor) }),
    })),
    raw_output_contents: raw ? options.outputs.map((tensor) => Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)) : [],
  };
}
