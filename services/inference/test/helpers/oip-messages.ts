/** Builders for OIP messages as the server's loader delivers them (every field present, defaults filled). */
import type { InferTensorContents__Output, ModelInferRequest__Output } from '@maas/protos';

export function contents(fields: Partial<InferTensorContents__Output> = {}): InferTensorContents__Output {
  return {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
    ...fields,
  };
}

export interface InputSpec {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Partial<InferTensorContents__Output>;
}

export function inferRequest(options: {
  inputs: InputSpec[];
  raw?: Buffer[];
  outputs?: string[];
  model?: string;
  version?: string;
}): ModelInferRequest__Output {
  return {
    model_name: options.model ?? 'm',
    model_version: options.version ?? '1',
    id: 'req-1',
    parameters: {},
    inputs: options.inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      parameters: {},
      contents: input.contents ? contents(input.contents) : null,
    })),
    outputs: (options.outputs ?? []).map((name) => ({ name, parameters: {} })),
    raw_input_contents: options.raw ?? [],
  };
}

/** Packs strings in the raw BYTES layout (4-byte little-endian length, then the bytes). */
export function rawBytes(elements: Array<string | Uint8Array>): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const bytes = typeof element === 'string' ? Buffer.from(element) : Buffer.from(element);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** The bytes of a typed array as a Buffer (raw contents). */
export function rawOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}
