/**
 * Writes tiny ONNX models for tests, byte by byte. ONNX files are protobuf (`onnx.ModelProto`); the few
 * messages a plain inference graph needs are encoded here by hand (field numbers from onnx/onnx.proto), so
 * the tests need neither a schema file nor a model-building dependency.
 */

/** ONNX TensorProto.DataType values by OIP datatype. */
export const ONNX_ELEMENT_TYPES = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

export type ElementType = keyof typeof ONNX_ELEMENT_TYPES;

/** A graph input or output: dims are numbers, or -1 for a dynamic one (written as a named symbolic dim). */
export interface ValueInfo {
  name: string;
  type: ElementType;
  shape: number[];
}

/** A node: `attributes` holds int attributes (`to` of Cast, `keepdims`, ...). */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number>;
}

/** A constant FP32 tensor. */
export interface Initializer {
  name: string;
  dims: number[];
  values: number[];
}

export interface GraphSpec {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
  /** Default opset 13. */
  opset?: number;
}

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.parts.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  w.string(1, info.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, ONNX_ELEMENT_TYPES[info.type]).message(2, (shape) => {
        info.shape.forEach((dim, index) => shape.message(1, (d) => (dim < 0 ? d.string(2, `${info.name}_d${index}`) : d.int(1, dim))));
      }),
    ),
  );
}

/** Encodes `spec` as the bytes of an ONNX model file. */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  return new ProtoWriter()
    .int(1, 8) // ir_version 8
    .string(2, 'maas-inference-tests')
    .message(8, (opset) => opset.string(1, '').int(2, spec.opset ?? 13))
    .message(7, (graph) => {
      spec.nodes.forEach((node, index) =>
        graph.message(1, (n) => {
          node.inputs.forEach((input) => n.string(1, input));
          node.outputs.forEach((output) => n.string(2, output));
          n.string(3, `${node.op.toLowerCase()}_${index}`).string(4, node.op);
          for (const [name, value] of Object.entries(node.attributes ?? {})) {
            n.message(5, (attribute) => attribute.string(1, name).int(3, value).int(20, 2 /* INT */));
          }
        }),
      );
      graph.string(2, 'tiny');
      for (const init of spec.initializers ?? []) {
        graph.message(5, (t) => {
          init.dims.forEach((dim) => t.int(1, dim));
          t.int(2, ONNX_ELEMENT_TYPES.FP32).string(8, init.name);
          const raw = new Uint8Array(Float32Array.from(init.values).buffer);
          t.bytes(9, raw);
        });
      }
      spec.inputs.forEach((input) => graph.message(11, (w) => writeValueInfo(w, input)));
      spec.outputs.forEach((output) => graph.message(12, (w) => writeValueInfo(w, output)));
    })
    .finish();
}

/** Sequence length of the tiny classifier's `input_ids`. */
export const TINY_CLASSIFIER_LENGTH = 8;

/**
 * A classifier shaped like the sentiment example: `input_ids` INT64 [-1, 8] → probability FP32 [-1, 1]
 * = sigmoid(ids · w + b) with w_i = (i + 1) / 100 and b = `bias` (default -0.5), so every row gets its own answer.
 */
export function tinyClassifier(options: { bias?: number } = {}): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'input_ids', type: 'INT64', shape: [-1, TINY_CLASSIFIER_LENGTH] }],
    outputs: [{ name: 'probability', type: 'FP32', shape: [-1, 1] }],
    initializers: [
      { name: 'w', dims: [TINY_CLASSIFIER_LENGTH, 1], values: Array.from({ length: TINY_CLASSIFIER_LENGTH }, (_, i) => (i + 1) / 100) },
      { name: 'b', dims: [1], values: [options.bias ?? -0.5] },
    ],
    nodes: [
      { op: 'Cast', inputs: ['input_ids'], outputs: ['ids_f'], attributes: { to: ONNX_ELEMENT_TYPES.FP32 } },
      { op: 'MatMul', inputs: ['ids_f', 'w'], outputs: ['logit0'] },
      { op: 'Add', inputs: ['logit0', 'b'], outputs: ['logit'] },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['probability'] },
    ],
  });
}

/**
 * An echo model: for each datatype T in `types`, input `<t>_in` [-1, -1] → Identity → output `<t>_out`, so a
 * request's tensors come back as the model saw them (codec round trips, padding).
 */
export function echoModel(types: readonly ElementType[]): Uint8Array {
  const name = (type: ElementType) => type.toLowerCase();
  return buildOnnxModel({
    inputs: types.map((type) => ({ name: `${name(type)}_in`, type, shape: [-1, -1] })),
    outputs: types.map((type) => ({ name: `${name(type)}_out`, type, shape: [-1, -1] })),
    nodes: types.map((type) => ({ op: 'Identity', inputs: [`${name(type)}_in`], outputs: [`${name(type)}_out`] })),
  });
}

/** `input_ids` INT64 [-1, -1] → `scores` FP32 [-1, -1] = the ids as floats (a dynamic sequence dim, for padding). */
export function castModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'input_ids', type: 'INT64', shape: [-1, -1] }],
    outputs: [{ name: 'scores', type: 'FP32', shape: [-1, -1] }],
    nodes: [{ op: 'Cast', inputs: ['input_ids'], outputs: ['scores'], attributes: { to: ONNX_ELEMENT_TYPES.FP32 } }],
  });
}

/**
 * An embedding lookup: `input_ids` INT64 [-1, 4] → Gather over a [vocab, 1] table (row i holds i) →
 * `scores` FP32 [-1, 4, 1]. With `negate` the ids pass through Neg first, which the server cannot see through:
 * then an id outside the table reaches ONNX Runtime (to show how its failures are reported).
 */
export function embeddingModel(options: { vocab: number; negate?: boolean }): Uint8Array {
  const ids = options.negate ? 'neg_ids' : 'cast_ids';
  return buildOnnxModel({
    inputs: [{ name: 'input_ids', type: 'INT64', shape: [-1, 4] }],
    outputs: [{ name: 'scores', type: 'FP32', shape: [-1, 4, 1] }],
    initializers: [{ name: 'table', dims: [options.vocab, 1], values: Array.from({ length: options.vocab }, (_, i) => i) }],
    nodes: [
      ...(options.negate
        ? [{ op: 'Neg', inputs: ['input_ids'], outputs: [ids] }]
        : [{ op: 'Cast', inputs: ['input_ids'], outputs: [ids], attributes: { to: ONNX_ELEMENT_TYPES.INT64 } }]),
      { op: 'Gather', inputs: ['table', ids], outputs: ['scores'], attributes: { axis: 0 } },
    ],
  });
}
