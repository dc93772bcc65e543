/**
 * Model inputs made the way the mesh makes them: real texts encoded by the running tokenizer service, then cut
 * into ModelInfer requests of a few rows each with raw_input_contents (the fast path the gateway itself uses).
 */
import { contracts, type EncodeRequest, type EncodeResponse__Output, type ModelInferRequest, type ModelInferResponse__Output } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';

export interface EncodedRows {
  model: string;
  version: string;
  rows: number;
  tensors: Array<{ name: string; datatype: string; shape: number[]; raw: Buffer }>;
}

/** Encodes `texts` for (model, version) with the tokenizer service at `address` (`options`: the mesh's credentials). */
export async function encodeWithTokenizer(
  address: string,
  request: { model: string; version: string; texts: string[] },
  options: ClientOptions = {},
): Promise<EncodedRows> {
  const client = createClient(contracts().maas.v1.Tokenizer, address, options);
  try {
    const response = await unaryCall<EncodeRequest, EncodeResponse__Output>((r, md, o, cb) => client.Encode(r, md, o, cb), request, { deadline: 30_000 });
    return {
      model: request.model,
      version: request.version,
      rows: request.texts.length,
      tensors: response.tensors.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map(Number), raw: tensor.raw_contents })),
    };
  } finally {
    client.close();
  }
}

/** ModelInfer requests of `rowsPerRequest` rows each (as many as the encoded rows fill), raw contents. */
export function modelInferRequests(encoded: EncodedRows, rowsPerRequest: number): ModelInferRequest[] {
  const requests: ModelInferRequest[] = [];
  for (let first = 0; first + rowsPerRequest <= encoded.rows; first += rowsPerRequest) {
    requests.push({
      model_name: encoded.model,
      model_version: encoded.version,
      inputs: encoded.tensors.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: [rowsPerRequest, ...tensor.shape.slice(1)] })),
      raw_input_contents: encoded.tensors.map((tensor) => {
        const rowBytes = tensor.raw.length / encoded.rows;
        return tensor.raw.subarray(first * rowBytes, (first + rowsPerRequest) * rowBytes);
      }),
    });
  }
  return requests;
}

/** Throws unless `response` carries one raw output of `rows` × `valuesPerRow` FP32 values. */
export function checkInferResponse(response: ModelInferResponse__Output, expected: { output: string; rows: number; valuesPerRow: number }): void {
  const output = response.outputs[0];
  const raw = response.raw_output_contents[0];
  if (output?.name !== expected.output || output.datatype !== 'FP32' || raw?.length !== expected.rows * expected.valuesPerRow * 4) {
    throw new Error(
      `unexpected ModelInfer answer: ${JSON.stringify({ outputs: response.outputs, rawBytes: response.raw_output_contents.map((bytes) => bytes.length) })}`,
    );
  }
}
