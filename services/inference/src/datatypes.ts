/**
 * OIP datatypes and their ONNX Runtime counterparts, plus the packed BYTES layout. Kept free of gRPC and
 * service dependencies because the session worker imports it too.
 *
 * Host byte order: tensors are kept as little-endian element bytes and viewed through typed arrays, which
 * use the host's byte order; every platform onnxruntime-node ships for (x64, arm64) is little-endian.
 */

/** The OIP datatypes this server handles (BF16 has no onnxruntime-node tensor type, so it is refused). */
export const DATATYPE_NAMES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPE_NAMES)[number];

/** The field of `InferTensorContents` that carries a datatype's elements. */
export type ContentsField =
  'bool_contents' | 'int_contents' | 'int64_contents' | 'uint_contents' | 'uint64_contents' | 'fp32_contents' | 'fp64_contents' | 'bytes_contents';

export const CONTENTS_FIELDS: readonly ContentsField[] = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

/** onnxruntime-node tensor type names. */
export type OrtType = 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'string';

type NumericArray = Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

type NumericArrayConstructor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray; new (length: number): NumericArray };

export interface DatatypeInfo {
  ort: OrtType;
  /** Bytes per element; 0 for BYTES (variable-length elements, packed as described below). */
  elementBytes: number;
  /** Where typed `contents` carry it; null for FP16, which travels only as raw bytes. */
  field: ContentsField | null;
  /** The typed array onnxruntime-node uses for it; null for BYTES (JS strings). */
  array: NumericArrayConstructor | null;
  /**
   * Value range of an integer type, as JS numbers (the 64-bit ones cut to ±2^53, as their typed contents are
   * read): checked on typed input where it is narrower than its contents field, and what widensExactly compares.
   */
  range?: readonly [number, number];
}

export const DATATYPES: Readonly<Record<Datatype, DatatypeInfo>> = {
  BOOL: { ort: 'bool', elementBytes: 1, field: 'bool_contents', array: Uint8Array },
  UINT8: { ort: 'uint8', elementBytes: 1, field: 'uint_contents', array: Uint8Array, range: [0, 0xff] },
  UINT16: { ort: 'uint16', elementBytes: 2, field: 'uint_contents', array: Uint16Array, range: [0, 0xffff] },
  UINT32: { ort: 'uint32', elementBytes: 4, field: 'uint_contents', array: Uint32Array, range: [0, 0xffffffff] },
  UINT64: { ort: 'uint64', elementBytes: 8, field: 'uint64_contents', array: BigUint64Array, range: [0, Number.MAX_SAFE_INTEGER] },
  INT8: { ort: 'int8', elementBytes: 1, field: 'int_contents', array: Int8Array, range: [-0x80, 0x7f] },
  INT16: { ort: 'int16', elementBytes: 2, field: 'int_contents', array: Int16Array, range: [-0x8000, 0x7fff] },
  INT32: { ort: 'int32', elementBytes: 4, field: 'int_contents', array: Int32Array, range: [-0x80000000, 0x7fffffff] },
  INT64: { ort: 'int64', elementBytes: 8, field: 'int64_contents', array: BigInt64Array, range: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] },
  FP16: { ort: 'float16', elementBytes: 2, field: null, array: Uint16Array },
  FP32: { ort: 'float32', elementBytes: 4, field: 'fp32_contents', array: Float32Array },
  FP64: { ort: 'float64', elementBytes: 8, field: 'fp64_contents', array: Float64Array },
  BYTES: { ort: 'string', elementBytes: 0, field: 'bytes_contents', array: null },
};

export function isDatatype(value: string): value is Datatype {
  return Object.prototype.hasOwnProperty.call(DATATYPES, value);
}

const BY_ORT_TYPE = new Map<string, Datatype>(DATATYPE_NAMES.map((name) => [DATATYPES[name].ort, name]));

/** The OIP datatype of an onnxruntime-node tensor type, or undefined when this server cannot serve it. */
export function datatypeOfOrtType(type: string): Datatype | undefined {
  return BY_ORT_TYPE.get(type);
}

/**
 * A tensor as this server moves it around: its elements as bytes. Numeric types: the elements flattened
 * row-major, little-endian, no padding (exactly OIP's raw layout). BYTES: each element as a 4-byte
 * little-endian length then its bytes (OIP's raw BYTES layout, which also concatenates without copying
 * element by element).
 */
export interface HostTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: Uint8Array;
  /**
   * Set when `data` is the whole of a fresh ArrayBuffer that nothing else refers to (e.g. made by widening), so
   * it may be transferred to a session worker as it is; unset for views into gRPC's receive buffers.
   */
  ownsBuffer?: true;
}

/** Product of the dims (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** "[-1,100]". */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Thrown for packed BYTES data that does not parse. */
export class BytesFormatError extends Error {}

/** Splits packed BYTES data into its elements (views, no copy). */
export function splitBytesElements(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < data.byteLength) {
    if (offset + 4 > data.byteLength) {
      throw new BytesFormatError(`element ${elements.length} has a truncated 4-byte length at byte ${offset}`);
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > data.byteLength) {
      throw new BytesFormatError(`element ${elements.length} declares ${length} bytes but only ${data.byteLength - offset} remain`);
    }
    elements.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return elements;
}

/** Packs elements into the BYTES layout. */
export function packBytesElements(elements: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const element of elements) total += 4 + element.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}

/**
 * A typed-array view of numeric tensor bytes in the datatype's array type; copies only when the bytes are not
 * aligned for it (a view must start at a multiple of the element size).
 */
export function numericView(datatype: Datatype, data: Uint8Array): NumericArray {
  const info = DATATYPES[datatype];
  if (!info.array) throw new TypeError(`${datatype} has no numeric view`);
  const length = data.byteLength / info.elementBytes;
  if (data.byteOffset % info.elementBytes === 0) return new info.array(data.buffer, data.byteOffset, length);
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return new info.array(copy.buffer, 0, length);
}

/** The bytes behind a typed array (a view, no copy). */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * Whether every value of integer datatype `from` is a value of integer datatype `to` (a lossless widening),
 * e.g. UINT16 → INT64 but not INT8 → UINT16. 64-bit sources never widen (there is nothing wider); the
 * same datatype is not a widening.
 */
export function widensExactly(from: Datatype, to: Datatype): boolean {
  if (from === to || from === 'INT64' || from === 'UINT64') return false;
  const source = DATATYPES[from].range;
  const target = DATATYPES[to].range;
  return source !== undefined && target !== undefined && source[0] >= target[0] && source[1] <= target[1];
}

/**
 * The elements of `data` (integer datatype `from`) as datatype `to`, value for value; `widensExactly(from,
 * to)` must hold. 64-bit targets are written as two 32-bit words per element (no BigInt per element).
 */
export function widenIntegers(from: Datatype, data: Uint8Array, to: Datatype): Uint8Array {
  const source = numericView(from, data) as Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array;
  const count = source.length;
  if (to === 'INT64' || to === 'UINT64') {
    // Little-endian halves: the low word is the value (wrapped to int32 on assignment), the high word its sign
    // extension, which is the zero the array starts with for an unsigned source.
    const words = new Int32Array(count * 2);
    if (from === 'INT8' || from === 'INT16' || from === 'INT32') {
      for (let index = 0; index < count; index++) {
        const value = source[index]!;
        words[2 * index] = value;
        words[2 * index + 1] = value >> 31;
      }
    } else {
      for (let index = 0; index < count; index++) words[2 * index] = source[index]!;
    }
    return bytesOf(words);
  }
  const target = new DATATYPES[to].array!(count) as Uint16Array | Uint32Array | Int16Array | Int32Array;
  // A typed-array copy converts each element; exact because the source range lies inside the target's.
  target.set(source);
  return bytesOf(target);
}
