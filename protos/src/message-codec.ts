import type * as protobuf from 'protobufjs';
import { protobufRoot } from './load.js';

/** Encodes/decodes one message type to bytes, with the same object shape as the gRPC loader produces. */
export interface MessageCodec<TIn, TOut> {
  readonly typeName: string;
  encode(message: TIn): Uint8Array;
  decode(bytes: Uint8Array): TOut;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true, arrays: true, objects: true };

/** A codec for a fully qualified message name, e.g. "maas.v1.RolloutChanged". */
export function messageCodec<TIn extends object, TOut>(typeName: string): MessageCodec<TIn, TOut> {
  const type = protobufRoot().lookupType(typeName);
  return {
    typeName,
    encode: (message) => type.encode(type.fromObject(message as Record<string, unknown>)).finish(),
    decode: (bytes) => type.toObject(type.decode(bytes), toObjectOptions) as TOut,
  };
}
