import { contracts, type ClassifyResponse__Output } from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import { DEFAULT_TIMEOUT_MS } from './registry-commands.js';

/** The gateway's default address (its standard port on this machine). */
export const DEFAULT_GATEWAY_ADDRESS = '127.0.0.1:50051';

export interface ClassifyOptions {
  /** host:port of the gateway. */
  gatewayAddress: string;
  model: string;
  texts: string[];
  /** Sticky routing key: the same key gets the same version for a given rollout. */
  routingKey?: string;
  timeoutMs?: number;
}

/** Calls maas.v1.Gateway/Classify: one prediction per text, in order. */
export async function classify(options: ClassifyOptions): Promise<ClassifyResponse__Output> {
  const client = createClient(contracts().maas.v1.Gateway, options.gatewayAddress);
  try {
    const request = { model: options.model, texts: options.texts, routing_key: options.routingKey ?? '' };
    return await unaryCall((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  } finally {
    client.close();
  }
}
