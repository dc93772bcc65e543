/**
 * Finds the graph inputs that index an embedding table, and the table's size: an input that reaches the
 * `indices` of a Gather (axis 0) whose `data` is an initializer — directly or through Cast/Identity — may
 * only hold values in [0, rows). ONNX Runtime fails such a run with a message full of node names and
 * paths; checking ids against this bound first turns a token id ≥ the vocabulary into an INVALID_ARGUMENT
 * naming the input and the element.
 *
 * The ONNX file is protobuf (onnx.ModelProto); only the few fields needed are read here, straight from the
 * wire format (field numbers from onnx/onnx.proto), skipping everything else — weights included — by length.
 */

/** One field of a protobuf message: a varint's value, or a length-delimited field's bytes. */
interface WireField {
  field: number;
  varint?: number;
  bytes?: Uint8Array;
}

class WireFormatError extends Error {}

function* wireFields(buffer: Uint8Array): Generator<WireField> {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= buffer.length) throw new WireFormatError('truncated varint');
      const byte = buffer[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (pos < buffer.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) yield { field, varint: varint() };
    else if (wireType === 2) {
      const length = varint();
      if (pos + length > buffer.length) throw new WireFormatError('truncated field');
      yield { field, bytes: buffer.subarray(pos, pos + length) };
      pos += length;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else throw new WireFormatError(`unsupported wire type ${wireType}`);
  }
}

const decoder = new TextDecoder();

/** Packed or unpacked repeated varints (TensorProto.dims). */
function pushVarints(target: number[], field: WireField): void {
  if (field.varint !== undefined) {
    target.push(field.varint);
    return;
  }
  const bytes = field.bytes ?? new Uint8Array(0);
  let value = 0;
  let scale = 1;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) {
      target.push(value);
      value = 0;
      scale = 1;
    }
  }
}

interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  axis: number;
}

function readNode(bytes: Uint8Array): GraphNode {
  const node: GraphNode = { op: '', inputs: [], outputs: [], axis: 0 };
  for (const f of wireFields(bytes)) {
    if (f.field === 1 && f.bytes) node.inputs.push(decoder.decode(f.bytes));
    else if (f.field === 2 && f.bytes) node.outputs.push(decoder.decode(f.bytes));
    else if (f.field === 4 && f.bytes) node.op = decoder.decode(f.bytes);
    else if (f.field === 5 && f.bytes) {
      // AttributeProto: name = 1, i = 3.
      let name = '';
      let value = 0;
      for (const a of wireFields(f.bytes)) {
        if (a.field === 1 && a.bytes) name = decoder.decode(a.bytes);
        else if (a.field === 3 && a.varint !== undefined) value = a.varint;
      }
      if (name === 'axis') node.axis = value;
    }
  }
  return node;
}

/** Ops that pass ids through unchanged in value. */
const VALUE_PRESERVING_OPS = new Set(['Cast', 'Identity']);

/**
 * For each graph input that indexes an embedding table: the table's row count. Inputs not found, or a file
 * this reader cannot follow, give no bound (ONNX Runtime then remains the judge, and its failure stays hidden).
 */
export function embeddingBoundsOf(model: Uint8Array): Map<string, number> {
  const bounds = new Map<string, number>();
  try {
    let graph: Uint8Array | undefined;
    for (const f of wireFields(model)) if (f.field === 7 && f.bytes) graph = f.bytes; // ModelProto.graph
    if (!graph) return bounds;
    const nodes: GraphNode[] = [];
    const tableRows = new Map<string, number>();
    const inputs: string[] = [];
    for (const f of wireFields(graph)) {
      if (!f.bytes) continue;
      if (f.field === 1)
        nodes.push(readNode(f.bytes)); // GraphProto.node
      else if (f.field === 5) {
        // GraphProto.initializer: TensorProto dims = 1, name = 8.
        const dims: number[] = [];
        let name = '';
        for (const t of wireFields(f.bytes)) {
          if (t.field === 1) pushVarints(dims, t);
          else if (t.field === 8 && t.bytes) name = decoder.decode(t.bytes);
        }
        if (name && dims.length > 0) tableRows.set(name, dims[0]!);
      } else if (f.field === 11) {
        // GraphProto.input: ValueInfoProto name = 1.
        for (const v of wireFields(f.bytes)) if (v.field === 1 && v.bytes) inputs.push(decoder.decode(v.bytes));
      }
    }
    for (const input of inputs) {
      // Every tensor holding the input's values unchanged, then the tightest table any of them indexes.
      const aliases = new Set([input]);
      for (let grew = true; grew;) {
        grew = false;
        for (const node of nodes) {
          if (VALUE_PRESERVING_OPS.has(node.op) && aliases.has(node.inputs[0] ?? '') && node.outputs[0] && !aliases.has(node.outputs[0])) {
            aliases.add(node.outputs[0]);
            grew = true;
          }
        }
      }
      for (const node of nodes) {
        if (node.op !== 'Gather' || node.axis !== 0 || !aliases.has(node.inputs[1] ?? '')) continue;
        const rows = tableRows.get(node.inputs[0] ?? '');
        if (rows !== undefined) bounds.set(input, Math.min(rows, bounds.get(input) ?? Infinity));
      }
    }
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    // ONNX Runtime loaded the file, so it is valid; a layout this reader misreads only costs the early check.
  }
  return bounds;
}
