import { endianness } from 'node:os';
import { OnnxAttributeType, OnnxDataType, onnxModelProtoType } from './onnx-schema.js';

/** Typed arrays the builder can store as initializers; the element type follows the array type. */
export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** One dimension of a graph input/output: a fixed size, or a symbolic name such as "batch". */
export type Dim = number | string;

/** A node attribute; the key says which ONNX attribute type it is (a bare number would be ambiguous). */
export type AttributeValue = { int: number } | { float: number } | { ints: readonly number[] } | { floats: readonly number[] } | { string: string };

export interface NodeSpec {
  /** ONNX operator name, e.g. "MatMul". */
  op: string;
  inputs: readonly string[];
  /** Output value names; one generated name when omitted. */
  outputs?: readonly string[];
  /** Node name; generated from the operator when omitted. */
  name?: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ModelOptions {
  /** Graph name stored in the file. */
  graphName: string;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Default-domain opset; 17 is the first with LayerNormalization. */
  opsetVersion?: number;
  /** IR version 8 is the one that accompanies opset 17. */
  irVersion?: number;
  /** Free-form key/value metadata (ModelProto.metadata_props). */
  metadata?: Readonly<Record<string, string>>;
}

function elementType(data: TensorData): number {
  if (data instanceof Float32Array) return OnnxDataType.FLOAT;
  if (data instanceof Int8Array) return OnnxDataType.INT8;
  if (data instanceof Uint8Array) return OnnxDataType.UINT8;
  if (data instanceof Int32Array) return OnnxDataType.INT32;
  return OnnxDataType.INT64;
}

function attributeMessage(name: string, value: AttributeValue): Record<string, unknown> {
  if ('int' in value) return { name, type: OnnxAttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: OnnxAttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: OnnxAttributeType.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: OnnxAttributeType.FLOATS, floats: [...value.floats] };
  return { name, type: OnnxAttributeType.STRING, s: Buffer.from(value.string, 'utf8') };
}

function valueInfo(name: string, elemType: number, shape: readonly Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/**
 * Builds an ONNX inference graph in memory and serialises it to ModelProto bytes. Initializers are
 * stored as little-endian `raw_data` (the compact form every runtime reads). Names are checked for
 * uniqueness, because ONNX requires single assignment and a duplicate is otherwise only found when a
 * runtime rejects the file.
 */
export class OnnxGraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly names = new Set<string>();
  private readonly opCounters = new Map<string, number>();

  constructor() {
    // raw_data must be little-endian; typed arrays use the host order, so refuse a big-endian host
    // rather than write files that other machines would misread.
    if (endianness() !== 'LE') throw new Error('OnnxGraphBuilder needs a little-endian host');
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX value name used twice: ${name}`);
    this.names.add(name);
    return name;
  }

  private freshName(op: string): string {
    let n = this.opCounters.get(op) ?? 0;
    let name: string;
    do {
      name = `${op}_${n++}`;
    } while (this.names.has(name));
    this.opCounters.set(op, n);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, elemType: number, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, shape));
    return name;
  }

  /** Declares an existing value (a node output) as a graph output. */
  output(name: string, elemType: number, shape: readonly Dim[]): string {
    if (!this.names.has(name)) throw new Error(`graph output ${name} is produced by nothing`);
    this.outputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Adds a constant tensor (weights, shapes, axes). */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new Error(`initializer ${name}: dims [${dims.join(',')}] hold ${count} values, data has ${data.length}`);
    }
    this.initializers.push({
      name: this.claim(name),
      dims: [...dims],
      data_type: elementType(data),
      raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** Adds an int64 constant, the type ONNX wants for shapes, axes and indices. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(name, BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  /** Adds a float32 constant. */
  float(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(name, Float32Array.from(values), dims);
  }

  /** Adds a node and returns the name of its first output. */
  node(spec: NodeSpec): string {
    const name = spec.name ?? this.freshName(spec.op);
    for (const input of spec.inputs) {
      // An empty name is ONNX's "optional input left out".
      if (input !== '' && !this.names.has(input)) throw new Error(`node ${name} (${spec.op}) reads unknown value ${input}`);
    }
    const outputs = spec.outputs ?? [`${name}_out`];
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      name,
      op_type: spec.op,
      input: [...spec.inputs],
      output: [...outputs],
      attribute: Object.entries(spec.attributes ?? {}).map(([k, v]) => attributeMessage(k, v)),
    });
    return outputs[0]!;
  }

  /** Serialises the graph into ONNX ModelProto bytes. */
  toBytes(options: ModelOptions): Uint8Array {
    const type = onnxModelProtoType();
    const model = type.fromObject({
      ir_version: options.irVersion ?? 8,
      opset_import: [{ domain: '', version: options.opsetVersion ?? 17 }],
      producer_name: options.producerName ?? 'maas-models',
      producer_version: options.producerVersion ?? '0.1.0',
      doc_string: options.docString ?? '',
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
    return type.encode(model).finish();
  }
}

/** A decoded initializer, as tests and tools want to see it. */
export interface DecodedInitializer {
  name: string;
  dims: number[];
  dataType: number;
  byteLength: number;
}

/** A decoded summary of an ONNX file: enough to check what a writer produced. */
export interface DecodedModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  graphName: string;
  nodes: { name: string; opType: string; inputs: string[]; outputs: string[] }[];
  initializers: DecodedInitializer[];
  inputs: string[];
  outputs: string[];
  metadata: Record<string, string>;
}

interface RawModel {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  graph?: {
    name: string;
    node: { name: string; op_type: string; input: string[]; output: string[] }[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data: Buffer }[];
    input: { name: string }[];
    output: { name: string }[];
  };
  metadata_props: { key: string; value: string }[];
}

/** Reads an ONNX file back (through the same schema subset) into a plain summary. */
export function decodeOnnxModel(bytes: Uint8Array): DecodedModel {
  const type = onnxModelProtoType();
  const m = type.toObject(type.decode(bytes), { longs: Number, bytes: Buffer, defaults: true, arrays: true }) as RawModel;
  const g = m.graph ?? { name: '', node: [], initializer: [], input: [], output: [] };
  return {
    irVersion: m.ir_version,
    opsets: m.opset_import.map((o) => ({ domain: o.domain, version: o.version })),
    graphName: g.name,
    nodes: g.node.map((n) => ({ name: n.name, opType: n.op_type, inputs: n.input, outputs: n.output })),
    initializers: g.initializer.map((t) => ({ name: t.name, dims: t.dims, dataType: t.data_type, byteLength: t.raw_data.length })),
    inputs: g.input.map((v) => v.name),
    outputs: g.output.map((v) => v.name),
    metadata: Object.fromEntries(m.metadata_props.map((p) => [p.key, p.value])),
  };
}
