import test from 'ava';
import { Status } from '@maas/protos';
import { DATATYPES, type Datatype, type HostTensor, splitBytesElements } from '../src/datatypes.js';
import { bytesToContents, decodeInferRequest, encodeInferResponse, type ModelSignature } from '../src/tensor-codec.js';
import { inferRequest, rawBytes, rawOf } from './helpers/oip-messages.js';

const limits = { maxTensorBytes: 1 << 20 };

const signature = (
  inputs: ModelSignature['inputs'],
  outputs: ModelSignature['outputs'] = [{ name: 'out', datatype: 'FP32', shape: [-1, 1] }],
): ModelSignature => ({
  model: 'm',
  version: '1',
  inputs,
  outputs,
  batchable: [...inputs, ...outputs].every((spec) => spec.shape[0] === -1),
});

const ids = signature([{ name: 'input_ids', datatype: 'INT64', shape: [-1, 4] }]);

/** Asserts an INVALID_ARGUMENT whose message matches every pattern. */
function rejects(t: import('ava').ExecutionContext, run: () => unknown, ...patterns: RegExp[]) {
  const error = t.throws(run) as Error & { code?: number };
  t.is(error.code, Status.INVALID_ARGUMENT, error.message);
  for (const pattern of patterns) t.regex(error.message, pattern);
}

// One sample per typed datatype: the values, the field they travel in, and the typed array they become.
const samples: Array<{ datatype: Datatype; values: unknown[]; expected: ArrayBufferView }> = [
  { datatype: 'BOOL', values: [true, false, true, true], expected: Uint8Array.from([1, 0, 1, 1]) },
  { datatype: 'UINT8', values: [0, 1, 200, 255], expected: Uint8Array.from([0, 1, 200, 255]) },
  { datatype: 'UINT16', values: [0, 1, 300, 65535], expected: Uint16Array.from([0, 1, 300, 65535]) },
  { datatype: 'UINT32', values: [0, 1, 70000, 4294967295], expected: Uint32Array.from([0, 1, 70000, 4294967295]) },
  { datatype: 'UINT64', values: [0, 1, 2 ** 40, 2 ** 52], expected: BigUint64Array.from([0n, 1n, 2n ** 40n, 2n ** 52n]) },
  { datatype: 'INT8', values: [-128, -1, 0, 127], expected: Int8Array.from([-128, -1, 0, 127]) },
  { datatype: 'INT16', values: [-32768, -1, 0, 32767], expected: Int16Array.from([-32768, -1, 0, 32767]) },
  { datatype: 'INT32', values: [-(2 ** 31), -1, 0, 2 ** 31 - 1], expected: Int32Array.from([-(2 ** 31), -1, 0, 2 ** 31 - 1]) },
  { datatype: 'INT64', values: [-(2 ** 40), -1, 0, 2 ** 50], expected: BigInt64Array.from([-(2n ** 40n), -1n, 0n, 2n ** 50n]) },
  { datatype: 'FP32', values: [0.5, -1.25, 3, 1e10], expected: Float32Array.from([0.5, -1.25, 3, 1e10]) },
  { datatype: 'FP64', values: [0.1, -1e300, 3, Math.PI], expected: Float64Array.from([0.1, -1e300, 3, Math.PI]) },
];

for (const sample of samples) {
  test(`${sample.datatype}: typed and raw decode to the same bytes, and encode back`, (t) => {
    const field = DATATYPES[sample.datatype].field!;
    const sig = signature([{ name: 'x', datatype: sample.datatype, shape: [-1, 2] }]);
    const typed = decodeInferRequest(
      inferRequest({ inputs: [{ name: 'x', datatype: sample.datatype, shape: [2, 2], contents: { [field]: sample.values } }] }),
      sig,
      limits,
    );
    const raw = decodeInferRequest(
      inferRequest({ inputs: [{ name: 'x', datatype: sample.datatype, shape: [2, 2] }], raw: [rawOf(sample.expected)] }),
      sig,
      limits,
    );
    const expectedBytes = new Uint8Array(sample.expected.buffer, sample.expected.byteOffset, sample.expected.byteLength);
    t.deepEqual(new Uint8Array(typed.inputs[0]!.data), expectedBytes);
    t.deepEqual(new Uint8Array(raw.inputs[0]!.data), expectedBytes);
    t.false(typed.raw);
    t.true(raw.raw);
    t.is(typed.rows, 2);

    const tensor: HostTensor = { name: 'x', datatype: sample.datatype, shape: [2, 2], data: expectedBytes };
    t.deepEqual(bytesToContents(tensor), { [field]: sample.values });
    const response = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'r', outputs: [tensor], raw: true });
    t.deepEqual(new Uint8Array(response.raw_output_contents![0] as Buffer), expectedBytes);
    t.is(response.outputs![0]!.contents, undefined);
  });
}

test('BYTES: typed and raw carry the same elements, including empty and non-UTF-8 ones', (t) => {
  const sig = signature([{ name: 's', datatype: 'BYTES', shape: [-1, 3] }]);
  const elements = [Buffer.from('héllo'), Buffer.alloc(0), Buffer.from([0xff, 0x00, 0x7f])];
  const typed = decodeInferRequest(
    inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: elements } }] }),
    sig,
    limits,
  );
  const raw = decodeInferRequest(inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 3] }], raw: [rawBytes(elements)] }), sig, limits);
  t.deepEqual(Buffer.from(typed.inputs[0]!.data), rawBytes(elements));
  t.deepEqual(Buffer.from(raw.inputs[0]!.data), rawBytes(elements));
  t.deepEqual(
    splitBytesElements(raw.inputs[0]!.data).map((element) => Buffer.from(element)),
    elements,
  );
  t.deepEqual(bytesToContents(typed.inputs[0]!), { bytes_contents: elements });
});

test('raw INT64 keeps values beyond 2^53 exactly', (t) => {
  const big = BigInt64Array.from([2n ** 62n + 1n, -(2n ** 63n)]);
  const decoded = decodeInferRequest(
    inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 2] }], raw: [rawOf(big)] }),
    signature([{ name: 'input_ids', datatype: 'INT64', shape: [-1, -1] }]),
    limits,
  );
  const response = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: '', outputs: [{ ...decoded.inputs[0]!, name: 'out' }], raw: true });
  const back = response.raw_output_contents![0] as Buffer;
  t.deepEqual(new BigInt64Array(back.buffer.slice(back.byteOffset, back.byteOffset + back.byteLength)), big);
});

test('a typed response with an FP16 output answers raw (FP16 has no typed field)', (t) => {
  const half: HostTensor = { name: 'h', datatype: 'FP16', shape: [1, 2], data: new Uint8Array(rawOf(Uint16Array.from([0x3c00, 0xc000]))) };
  const f32: HostTensor = { name: 'f', datatype: 'FP32', shape: [1, 1], data: new Uint8Array(rawOf(Float32Array.from([2]))) };
  const response = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'x', outputs: [half, f32], raw: false });
  t.is(response.raw_output_contents!.length, 2);
  t.true(response.outputs!.every((output) => output.contents === undefined));
  const typedOnly = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'x', outputs: [f32], raw: false });
  t.deepEqual(typedOnly.raw_output_contents, []);
  t.deepEqual(typedOnly.outputs![0]!.contents, { fp32_contents: [2] });
  t.is(typedOnly.id, 'x');
});

test('inputs come back in signature order and outputs in requested order (all when none requested)', (t) => {
  const sig = signature(
    [
      { name: 'a', datatype: 'INT32', shape: [-1, 1] },
      { name: 'b', datatype: 'INT32', shape: [-1, 1] },
    ],
    [
      { name: 'o1', datatype: 'FP32', shape: [-1, 1] },
      { name: 'o2', datatype: 'FP32', shape: [-1, 1] },
    ],
  );
  const inputs = [
    { name: 'b', datatype: 'INT32', shape: [1, 1], contents: { int_contents: [2] } },
    { name: 'a', datatype: 'INT32', shape: [1, 1], contents: { int_contents: [1] } },
  ];
  const some = decodeInferRequest(inferRequest({ inputs, outputs: ['o2', 'o1'] }), sig, limits);
  t.deepEqual(
    some.inputs.map((input) => input.name),
    ['a', 'b'],
  );
  t.deepEqual(some.outputs, ['o2', 'o1']);
  t.deepEqual(decodeInferRequest(inferRequest({ inputs }), sig, limits).outputs, ['o1', 'o2']);
});

test('unknown, missing and repeated inputs are named', (t) => {
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 4] } }] }),
        ids,
        limits,
      ),
    /unknown input "ids"/,
    /input_ids \(INT64 \[-1,4\]\)/,
  );
  const two = signature([
    { name: 'input_ids', datatype: 'INT64', shape: [-1, 4] },
    { name: 'attention_mask', datatype: 'INT64', shape: [-1, 4] },
  ]);
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 4] } }] }),
        two,
        limits,
      ),
    /missing input "attention_mask \(INT64 \[-1,4\]\)"/,
  );
  const twice = { name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 4] } };
  rejects(t, () => decodeInferRequest(inferRequest({ inputs: [twice, twice] }), ids, limits), /input "input_ids" appears more than once/);
  rejects(t, () => decodeInferRequest(inferRequest({ inputs: [] }), ids, limits), /no inputs/, /input_ids/);
});

test('datatype and shape mismatches say what the model expects', (t) => {
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] }),
        ids,
        limits,
      ),
    /input "input_ids" has datatype "FP32"; the model expects INT64/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [4], contents: { int64_contents: [1, 2, 3, 4] } }] }),
        ids,
        limits,
      ),
    /input "input_ids" has shape \[4\] \(rank 1\); the model expects rank 2: \[-1,4\]/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [2, 2], contents: { int64_contents: [1, 2, 3, 4] } }] }),
        ids,
        limits,
      ),
    /input "input_ids" has shape \[2,2\]; dimension 1 must be 4/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [-2, 4] }], raw: [Buffer.alloc(0)] }), ids, limits),
    /every dimension must be an integer ≥ 0/,
  );
});

test('element count and raw byte length are checked against the shape', (t) => {
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [2, 4], contents: { int64_contents: [1, 2, 3] } }] }),
        ids,
        limits,
      ),
    /input "input_ids" has shape \[2,4\] \(8 elements\) but contents.int64_contents holds 3/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [2, 4] }], raw: [Buffer.alloc(60)] }), ids, limits),
    /input "input_ids" raw_input_contents\[0\] has 60 bytes; shape \[2,4\] of INT64 needs 64 \(8 elements × 8 bytes\)/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [2, 4] }] }), ids, limits),
    /input "input_ids" has no data/,
    /int64_contents/,
  );
  const bytesSig = signature([{ name: 's', datatype: 'BYTES', shape: [-1, 2] }]);
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 2] }], raw: [rawBytes(['a'])] }), bytesSig, limits),
    /input "s" raw_input_contents\[0\] holds 1 BYTES elements; shape \[1,2\] needs 2/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 2] }], raw: [Buffer.concat([rawBytes(['a']), Buffer.from([9, 0, 0, 0, 1])])] }),
        bytesSig,
        limits,
      ),
    /input "s" raw_input_contents\[0\] is not valid BYTES data: element 1 declares 9 bytes/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 2] }], raw: [Buffer.from([1, 0])] }), bytesSig, limits),
    /truncated 4-byte length/,
  );
});

test('raw and typed cannot be mixed, and raw needs one entry per input', (t) => {
  const two = signature([
    { name: 'a', datatype: 'INT32', shape: [-1, 1] },
    { name: 'b', datatype: 'INT32', shape: [-1, 1] },
  ]);
  const one = rawOf(Int32Array.from([1]));
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({
          inputs: [
            { name: 'a', datatype: 'INT32', shape: [1, 1] },
            { name: 'b', datatype: 'INT32', shape: [1, 1], contents: { int_contents: [1] } },
          ],
          raw: [one, one],
        }),
        two,
        limits,
      ),
    /input "b" has typed contents but the request also uses raw_input_contents/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({
          inputs: [
            { name: 'a', datatype: 'INT32', shape: [1, 1] },
            { name: 'b', datatype: 'INT32', shape: [1, 1] },
          ],
          raw: [one],
        }),
        two,
        limits,
      ),
    /raw_input_contents has 1 entries but the request has 2 inputs/,
  );
});

test('typed data in the wrong field, FP16 typed and out-of-range narrow integers are refused', (t) => {
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int_contents: [1, 2, 3, 4] } }] }),
        ids,
        limits,
      ),
    /input "input_ids" is INT64, whose elements go in contents.int64_contents; it carries int_contents/,
  );
  const half = signature([{ name: 'h', datatype: 'FP16', shape: [-1, 1] }]);
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'h', datatype: 'FP16', shape: [1, 1], contents: { fp32_contents: [1] } }] }), half, limits),
    /input "h" is FP16, which travels only as raw bytes/,
  );
  t.notThrows(() =>
    decodeInferRequest(inferRequest({ inputs: [{ name: 'h', datatype: 'FP16', shape: [1, 1] }], raw: [rawOf(Uint16Array.from([0x3c00]))] }), half, limits),
  );
  const int8 = signature([{ name: 'q', datatype: 'INT8', shape: [-1, 2] }]);
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'q', datatype: 'INT8', shape: [1, 2], contents: { int_contents: [1, 300] } }] }), int8, limits),
    /input "q" element 1 is 300, outside the INT8 range \[-128, 127\]/,
  );
});

test('tensors over MAX_TENSOR_BYTES are refused before their data is read', (t) => {
  const small = { maxTensorBytes: 100 };
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1e6, 4] }], raw: [Buffer.alloc(8)] }), ids, small),
    /input "input_ids" is 32000000 bytes; the limit is 100 bytes \(MAX_TENSOR_BYTES\)/,
  );
  const bytesSig = signature([{ name: 's', datatype: 'BYTES', shape: [-1, 1] }]);
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 1] }], raw: [rawBytes(['x'.repeat(200)])] }), bytesSig, small),
    /input "s" is 204 bytes/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1, 1], contents: { bytes_contents: [Buffer.alloc(200)] } }] }),
        bytesSig,
        small,
      ),
    /input "s" is 204 bytes/,
  );
});

test('batch rows must agree across inputs and be at least one', (t) => {
  const two = signature([
    { name: 'a', datatype: 'INT32', shape: [-1, 1] },
    { name: 'b', datatype: 'INT32', shape: [-1, 1] },
  ]);
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({
          inputs: [
            { name: 'a', datatype: 'INT32', shape: [2, 1], contents: { int_contents: [1, 2] } },
            { name: 'b', datatype: 'INT32', shape: [1, 1], contents: { int_contents: [1] } },
          ],
        }),
        two,
        limits,
      ),
    /input "b" has 1 rows \(dimension 0\) but input "a" has 2/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [0, 4] }], raw: [Buffer.alloc(0)] }), ids, limits),
    /has 0 rows/,
  );
  const fixed = signature([{ name: 'x', datatype: 'FP32', shape: [1, 2] }], [{ name: 'y', datatype: 'FP32', shape: [1, 2] }]);
  t.false(fixed.batchable);
  t.is(
    decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] }), fixed, limits).rows,
    1,
  );
});

test('unknown or repeated requested outputs are named', (t) => {
  const request = (outputs: string[]) =>
    inferRequest({ inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 4] } }], outputs });
  rejects(t, () => decodeInferRequest(request(['logits']), ids, limits), /unknown output "logits"/, /out \(FP32 \[-1,1\]\)/);
  rejects(t, () => decodeInferRequest(request(['out', 'out']), ids, limits), /output "out" is requested more than once/);
});

test('narrower integer inputs are widened exactly to the model datatype, raw and typed', (t) => {
  const widenings: Array<{ from: Datatype; to: Datatype; values: number[] }> = [
    { from: 'UINT8', to: 'INT64', values: [0, 1, 200, 255] },
    { from: 'UINT16', to: 'INT64', values: [0, 9999, 40000, 65535] },
    { from: 'UINT32', to: 'INT64', values: [0, 1, 2 ** 31, 2 ** 32 - 1] },
    { from: 'INT8', to: 'INT64', values: [-128, -1, 0, 127] },
    { from: 'INT32', to: 'INT64', values: [-(2 ** 31), -1, 0, 2 ** 31 - 1] },
    { from: 'UINT16', to: 'INT32', values: [0, 1, 300, 65535] },
    { from: 'INT16', to: 'INT32', values: [-32768, -1, 0, 32767] },
    { from: 'UINT8', to: 'UINT64', values: [0, 7, 128, 255] },
    { from: 'UINT8', to: 'INT16', values: [0, 7, 128, 255] },
  ];
  for (const { from, to, values } of widenings) {
    const sig = signature([{ name: 'x', datatype: to, shape: [-1, 2] }]);
    const source = new DATATYPES[from].array!(values.length);
    source.set(values as never);
    const raw = decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: from, shape: [2, 2] }], raw: [rawOf(source)] }), sig, limits);
    const typed = decodeInferRequest(
      inferRequest({ inputs: [{ name: 'x', datatype: from, shape: [2, 2], contents: { [DATATYPES[from].field!]: values } }] }),
      sig,
      limits,
    );
    for (const decoded of [raw, typed]) {
      const input = decoded.inputs[0]!;
      t.is(input.datatype, to, `${from} → ${to}`);
      const widened = bytesToContents(input);
      t.deepEqual(Object.values(widened)[0], values, `${from} → ${to}`);
    }
  }
});

test('an input is never narrowed, and only integers widen: the error names the datatypes that would do', (t) => {
  const int32 = signature([{ name: 'x', datatype: 'INT32', shape: [-1, 2] }]);
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 2] }], raw: [rawOf(BigInt64Array.from([1n, 2n]))] }),
        int32,
        limits,
      ),
    /has datatype "INT64"; the model expects INT32 \(or a narrower integer datatype it holds exactly: UINT8, UINT16, INT8, INT16\)/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: 'UINT32', shape: [1, 2] }], raw: [rawOf(Uint32Array.from([1, 2]))] }), int32, limits),
    /has datatype "UINT32"; the model expects INT32/,
  );
  rejects(
    t,
    () =>
      decodeInferRequest(
        inferRequest({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 2] }], raw: [rawOf(Int8Array.from([1, 2]))] }),
        signature([{ name: 'x', datatype: 'UINT16', shape: [-1, 2] }]),
        limits,
      ),
    /has datatype "INT8"; the model expects UINT16 \(or a narrower integer datatype it holds exactly: UINT8\)/,
  );
  const floats = signature([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
  rejects(
    t,
    () =>
      decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: 'FP16', shape: [1, 2] }], raw: [rawOf(Uint16Array.from([1, 2]))] }), floats, limits),
    /has datatype "FP16"; the model expects FP32$/,
  );
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: 'NOPE', shape: [1, 2] }], raw: [Buffer.alloc(8)] }), int32, limits),
    /has datatype "NOPE"; the model expects INT32/,
  );
  // A narrow raw tensor's byte length is checked in its own datatype.
  rejects(
    t,
    () => decodeInferRequest(inferRequest({ inputs: [{ name: 'x', datatype: 'UINT16', shape: [1, 2] }], raw: [Buffer.alloc(8)] }), int32, limits),
    /has 8 bytes; shape \[1,2\] of UINT16 needs 4/,
  );
});

test('token ids outside the vocabulary are refused in every integer datatype, wide or narrow, naming the element', (t) => {
  const sig = signature([{ name: 'input_ids', datatype: 'INT64', shape: [-1, 4], indexBound: 300 }]);
  const cases: Array<{ datatype: Datatype; data: ArrayBufferView; element: number; value: string }> = [
    { datatype: 'INT64', data: BigInt64Array.from([0n, 299n, 300n, 1n]), element: 2, value: '300' },
    { datatype: 'INT64', data: BigInt64Array.from([0n, -1n, 3n, 1n]), element: 1, value: '-1' },
    // A low word in range with a high word set: 2^32 + 5.
    { datatype: 'INT64', data: BigInt64Array.from([0n, 1n, 2n, 2n ** 32n + 5n]), element: 3, value: String(2n ** 32n + 5n) },
    { datatype: 'UINT16', data: Uint16Array.from([0, 299, 7, 65535]), element: 3, value: '65535' },
    { datatype: 'INT32', data: Int32Array.from([-5, 0, 0, 0]), element: 0, value: '-5' },
  ];
  for (const { datatype, data, element, value } of cases) {
    rejects(
      t,
      () => decodeInferRequest(inferRequest({ inputs: [{ name: 'input_ids', datatype, shape: [1, 4] }], raw: [rawOf(data)] }), sig, limits),
      new RegExp(`element ${element} is ${value}; the model's vocabulary has 300 entries`),
    );
  }
  const fine = decodeInferRequest(
    inferRequest({ inputs: [{ name: 'input_ids', datatype: 'UINT16', shape: [1, 4] }], raw: [rawOf(Uint16Array.from([0, 299, 7, 1]))] }),
    sig,
    limits,
  );
  t.deepEqual(bytesToContents(fine.inputs[0]!), { int64_contents: [0, 299, 7, 1] });
});
