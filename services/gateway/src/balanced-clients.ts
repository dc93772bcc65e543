/**
 * The gateway's clients of tokenizer and inference: each a ReplicaSet over every replica of the service (see
 * @maas/shared replica-set.ts), with the calls that may be retried on another replica and the model + version
 * each call needs, so replicas that lack a version get none of its calls. And the readiness probe that asks
 * every replica: a version is routable once some inference replica has it loaded and a tokenizer encodes for it.
 */
import type { GRPCInferenceServiceClient, ModelReadyResponse__Output, TokenizerClient } from '@maas/protos';
import { contracts } from '@maas/protos';
import { createBalancedClient, createClient, type ClientOptions, type Logger, unaryCall } from '@maas/shared';
import type { DownstreamClients } from './downstream.js';
import type { ReadinessProbe } from './readiness.js';

/** Replicas are told apart per model + version. */
export const versionKey = (model: string, version: string) => `${model}\u0000${version}`;

/** Every inference and tokenizer method is a read or a pure function: all may run twice. */
const INFERENCE_IDEMPOTENT = new Set(['ModelInfer', 'ModelReady', 'ModelMetadata', 'ServerLive', 'ServerReady', 'ServerMetadata']);
const TOKENIZER_IDEMPOTENT = new Set(['Encode']);

export type BalancedClients = DownstreamClients & {
  tokenizer: TokenizerClient & { readonly replicaSet: import('@maas/shared').ReplicaSet };
  inference: GRPCInferenceServiceClient & { readonly replicaSet: import('@maas/shared').ReplicaSet };
};

/** `clientOptions` (TLS credentials, server name) go to every replica's channel. */
export function createBalancedClients(options: {
  tokenizerAddress: string;
  inferenceAddress: string;
  clientOptions?: ClientOptions;
  logger: Logger;
}): BalancedClients {
  const grpcContracts = contracts();
  const Tokenizer = grpcContracts.maas.v1.Tokenizer;
  const Inference = grpcContracts.inference.GRPCInferenceService;
  return {
    tokenizer: createBalancedClient(Tokenizer, {
      target: options.tokenizerAddress,
      connect: (address) => createClient(Tokenizer, address, options.clientOptions),
      idempotent: TOKENIZER_IDEMPOTENT,
      keyOf: (_method, request) => {
        const { model, version } = request as { model?: string; version?: string };
        return model && version ? versionKey(model, version) : undefined;
      },
      logger: options.logger.child({ component: 'tokenizer-replicas' }),
    }),
    inference: createBalancedClient(Inference, {
      target: options.inferenceAddress,
      connect: (address) => createClient(Inference, address, options.clientOptions),
      idempotent: INFERENCE_IDEMPOTENT,
      keyOf: (method, request) => {
        const fields = request as { model_name?: string; model_version?: string; name?: string; version?: string };
        const model = method === 'ModelInfer' ? fields.model_name : fields.name;
        const version = method === 'ModelInfer' ? fields.model_version : fields.version;
        return model && version ? versionKey(model, version) : undefined;
      },
      logger: options.logger.child({ component: 'inference-replicas' }),
    }),
  };
}

/**
 * Ready when some inference replica reports the version loaded (each replica that does not is skipped for it)
 * and the tokenizer encodes a text for it: a candidate whose tokenizer file is broken never gets traffic.
 * Undefined when either service gave no answer at all (see ReplicaSet.askAll).
 */
export function replicaReadinessProbe(clients: BalancedClients): ReadinessProbe {
  return async (ref, deadline) => {
    const key = versionKey(ref.model, ref.version);
    const loaded = await clients.inference.replicaSet.askAll(key, async (client) => {
      const response = await unaryCall<{ name: string; version: string }, ModelReadyResponse__Output>(
        (request, metadata, callOptions, callback) => (client as GRPCInferenceServiceClient).ModelReady(request, metadata, callOptions, callback),
        { name: ref.model, version: ref.version },
        { deadline },
      );
      return response.ready;
    });
    if (loaded !== true) return loaded;
    return clients.tokenizer.replicaSet.askAll(key, async (client) => {
      await unaryCall(
        (request, metadata, callOptions, callback) => (client as TokenizerClient).Encode(request, metadata, callOptions, callback),
        { model: ref.model, version: ref.version, texts: [''] },
        { deadline },
      );
      return true;
    });
  };
}
