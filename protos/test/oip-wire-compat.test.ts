// Our Open Inference Protocol contract must be wire-identical to the published one, so that KServe and Triton
// clients built from the published .proto work unchanged. The published schema is restated below from the
// specification (kserve/open-inference-protocol, specification/protocol/open_inference_grpc.proto), field by
// field, independently of protos/inference/grpc_service.proto; messages encoded with one decode with the other.
import test from 'ava';
import * as protobuf from 'protobufjs';
import { protobufRoot } from '../src/load.js';

const parameters = { keyType: 'string', type: 'InferParameter' };
const PUBLISHED = {
  nested: {
    inference: {
      nested: {
        ServerLiveResponse: { fields: { live: { type: 'bool', id: 1 } } },
        ServerReadyResponse: { fields: { ready: { type: 'bool', id: 1 } } },
        ModelReadyRequest: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
        ModelReadyResponse: { fields: { ready: { type: 'bool', id: 1 } } },
        ServerMetadataResponse: {
          fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 }, extensions: { rule: 'repeated', type: 'string', id: 3 } },
        },
        ModelMetadataRequest: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
        ModelMetadataResponse: {
          fields: {
            name: { type: 'string', id: 1 },
            versions: { rule: 'repeated', type: 'string', id: 2 },
            platform: { type: 'string', id: 3 },
            inputs: { rule: 'repeated', type: 'TensorMetadata', id: 4 },
            outputs: { rule: 'repeated', type: 'TensorMetadata', id: 5 },
          },
          nested: {
            TensorMetadata: {
              fields: { name: { type: 'string', id: 1 }, datatype: { type: 'string', id: 2 }, shape: { rule: 'repeated', type: 'int64', id: 3 } },
            },
          },
        },
        InferParameter: {
          oneofs: { parameter_choice: { oneof: ['bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] } },
          fields: {
            bool_param: { type: 'bool', id: 1 },
            int64_param: { type: 'int64', id: 2 },
            string_param: { type: 'string', id: 3 },
            double_param: { type: 'double', id: 4 },
            uint64_param: { type: 'uint64', id: 5 },
          },
        },
        InferTensorContents: {
          fields: {
            bool_contents: { rule: 'repeated', type: 'bool', id: 1 },
            int_contents: { rule: 'repeated', type: 'int32', id: 2 },
            int64_contents: { rule: 'repeated', type: 'int64', id: 3 },
            uint_contents: { rule: 'repeated', type: 'uint32', id: 4 },
            uint64_contents: { rule: 'repeated', type: 'uint64', id: 5 },
            fp32_contents: { rule: 'repeated', type: 'float', id: 6 },
            fp64_contents: { rule: 'repeated', type: 'double', id: 7 },
            bytes_contents: { rule: 'repeated', type: 'bytes', id: 8 },
          },
        },
        ModelInferRequest: {
          fields: {
            model_name: { type: 'string', id: 1 },
            model_version: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: { ...parameters, id: 4 },
            inputs: { rule: 'repeated', type: 'InferInputTensor', id: 5 },
            outputs: { rule: 'repeated', type: 'InferRequestedOutputTensor', id: 6 },
            raw_input_contents: { rule: 'repeated', type: 'bytes', id: 7 },
          },
          nested: {
            InferInputTensor: {
              fields: {
                name: { type: 'string', id: 1 },
                datatype: { type: 'string', id: 2 },
                shape: { rule: 'repeated', type: 'int64', id: 3 },
                parameters: { ...parameters, id: 4 },
                contents: { type: 'InferTensorContents', id: 5 },
              },
            },
            InferRequestedOutputTensor: { fields: { name: { type: 'string', id: 1 }, parameters: { ...parameters, id: 2 } } },
          },
        },
        ModelInferResponse: {
          fields: {
            model_name: { type: 'string', id: 1 },
            model_version: { type: 'string', id: 2 },
            id: { type: 'string', id: 3 },
            parameters: { ...parameters, id: 4 },
            outputs: { rule: 'repeated', type: 'InferOutputTensor', id: 5 },
            raw_output_contents: { rule: 'repeated', type: 'bytes', id: 6 },
          },
          nested: {
            InferOutputTensor: {
              fields: {
                name: { type: 'string', id: 1 },
                datatype: { type: 'string', id: 2 },
                shape: { rule: 'repeated', type: 'int64', id: 3 },
                parameters: { ...parameters, id: 4 },
                contents: { type: 'InferTensorContents', id: 5 },
              },
            },
          },
        },
      },
    },
  },
};

const published = protobuf.Root.fromJSON(PUBLISHED);
const options: protobuf.IConversionOptions = { longs: String, bytes: String, defaults: false, oneofs: true };

/** Every field of the published message type, recursively, must exist in ours with the same number and type. */
function compareTypes(t: import('ava').ExecutionContext, name: string): void {
  const theirs = published.lookupType(name);
  const ours = protobufRoot().lookupType(name);
  for (const field of theirs.fieldsArray) {
    const match = ours.fields[field.name];
    t.truthy(match, `${name}.${field.name} exists`);
    t.is(match!.id, field.id, `${name}.${field.name} number`);
    t.is(match!.type, field.type, `${name}.${field.name} type`);
    t.is(match!.repeated, field.repeated, `${name}.${field.name} repeated`);
    t.is(match!.map, field.map, `${name}.${field.name} map`);
    if (field.resolvedType instanceof protobuf.Type) compareTypes(t, field.resolvedType.fullName.slice(1));
  }
}

for (const name of ['ModelInferRequest', 'ModelInferResponse', 'ModelMetadataResponse', 'ServerMetadataResponse', 'ModelReadyRequest', 'InferParameter']) {
  test(`inference.${name} has the published field numbers and types`, (t) => compareTypes(t, `inference.${name}`));
}

test('a ModelInferRequest written by a published-schema client reads back identically with our contract, and back', (t) => {
  const message = {
    model_name: 'sentiment',
    model_version: '2',
    id: 'req-1',
    parameters: { priority: { int64_param: '3' }, tag: { string_param: 'x' } },
    inputs: [
      { name: 'input_ids', datatype: 'INT64', shape: ['2', '3'], contents: { int64_contents: ['1', '2', '3', '4', '5', '9007199254740993'] } },
      { name: 'flags', datatype: 'BOOL', shape: ['2'], parameters: { binary: { bool_param: true } }, contents: { bool_contents: [true, false] } },
    ],
    outputs: [{ name: 'probability' }],
    raw_input_contents: [Buffer.from([1, 2, 3]).toString('base64')],
  };
  const theirs = published.lookupType('inference.ModelInferRequest');
  const ours = protobufRoot().lookupType('inference.ModelInferRequest');
  const bytes = theirs.encode(theirs.fromObject(message)).finish();
  const decoded = ours.toObject(ours.decode(bytes), options);
  t.deepEqual(decoded, theirs.toObject(theirs.decode(bytes), options));
  t.deepEqual(Buffer.from(ours.encode(ours.fromObject(decoded)).finish()), Buffer.from(bytes));
});
