import { contracts, type ClassifyResponse__Output } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import { unreachableAs } from './cli-errors.js';
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
  /** A version label or alias: bypasses the rollout (the gateway answers with exactly that version). */
  version?: string;
  timeoutMs?: number;
  /** TLS credentials (cliClientOptions); default: plaintext. */
  client?: ClientOptions;
}

/** Calls maas.v1.Gateway/Classify: one prediction per text, in order. */
export async function classify(options: ClassifyOptions): Promise<ClassifyResponse__Output> {
  const client = createClient(contracts().maas.v1.Gateway, options.gatewayAddress, options.client);
  try {
    const request = { model: options.model, texts: options.texts, routing_key: options.routingKey ?? '', version: options.version ?? '' };
    return await unaryCall((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  } catch (error) {
    throw unreachableAs(error, { client, what: 'gateway', address: options.gatewayAddress });
  } finally {
    client.close();
  }
}

/**
 * What `maasctl classify` prints, and `npm start` as its sample: one line per text, tab-separated
 * `label score version text`, so that people read it as columns and `cut -f2` or `awk -F'\t'` take it apart.
 * The text is JSON-quoted: a tab or a newline inside it cannot break the line into more columns or rows.
 */
export function formatPredictions(texts: readonly string[], response: ClassifyResponse__Output): string {
  return response.predictions
    .map((prediction, index) => [prediction.label, prediction.score.toFixed(4), prediction.model_version, JSON.stringify(texts[index] ?? '')].join('\t'))
    .join('\n');
}

/** `maasctl classify --output json`: the texts beside the gateway's answer, every score at full precision. */
export function predictionsAsJson(model: string, texts: readonly string[], response: ClassifyResponse__Output): string {
  const predictions = response.predictions.map((prediction, index) => ({
    text: texts[index] ?? '',
    label: prediction.label,
    score: prediction.score,
    model_version: prediction.model_version,
  }));
  return JSON.stringify({ model, predictions }, null, 2);
}
