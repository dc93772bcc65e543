/**
 * The yardstick of issue 7: the single-process server a user would write in an afternoon instead of running
 * the mesh. One grpc-js server serving maas.v1.Gateway/Classify (the same contract, generated the same way),
 * the tokenizer inline (Keras through @maas/keras-tokenizer, WordPiece through @huggingface/tokenizers), one
 * onnxruntime-node `session.run` per request on the main thread, no batching across requests, ONNX Runtime's
 * default session options. Each model package given is loaded at start.
 *
 * Secured as that user would secure it, at the same edge as the gateway's (issue 10: the bench runs with
 * security on, so the yardstick pays for it too): server TLS with a certificate from the mesh CA (the kind the
 * gateway serves its public port with, no client certificate asked), and a bearer token checked on every call
 * the plain way: the SHA-256 of the presented token compared in constant time with the one stored hash — what
 * the gateway's API key check costs (one hash, one compare), without its key file, scopes or limits.
 *
 * Run as its own process: `tsx naive-peer-server.ts --cert <pem> --key <pem> --token-sha256 <hex> <package dir>...`;
 * prints "listening <port>"; exits on SIGTERM.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Tokenizer } from '@huggingface/tokenizers';
import { KerasTokenizer, padSequencesToInt64 } from '@maas/keras-tokenizer';
import { contracts, type ClassifyRequest__Output, type ClassifyResponse } from '@maas/protos';
import * as ort from 'onnxruntime-node';
import { serveUntilStopped } from './serve-child.js';

interface Manifest {
  name: string;
  version: string;
  model_file: string;
  inputs: Array<{ name: string; role: string }>;
  outputs: Array<{ name: string }>;
  tokenizer: { kind: 'keras' | 'huggingface'; file: string; max_length: number; padding_side: 'pre' | 'post'; truncation_side: 'pre' | 'post'; pad_id: number };
  labels: string[];
  output_activation: string;
}

export interface LoadedModel {
  manifest: Manifest;
  session: ort.InferenceSession;
  /** The model's input tensors for a batch of texts. */
  encode(texts: readonly string[]): Record<string, ort.Tensor>;
}

function kerasEncoder(manifest: Manifest, fileText: string): LoadedModel['encode'] {
  const tokenizer = KerasTokenizer.fromJson(fileText);
  const { max_length: maxlen, padding_side: padding, truncation_side: truncating, pad_id: value } = manifest.tokenizer;
  const inputName = manifest.inputs[0]!.name;
  return (texts) => ({
    [inputName]: new ort.Tensor('int64', padSequencesToInt64(tokenizer.textsToSequences(texts), { maxlen, padding, truncating, value }), [
      texts.length,
      maxlen,
    ]),
  });
}

/** WordPiece (or any tokenizer.json): specials from the library, post-truncation and post-padding as encoder-bench wants. */
function huggingfaceEncoder(manifest: Manifest, fileText: string): LoadedModel['encode'] {
  const tokenizer = new Tokenizer(JSON.parse(fileText), {});
  const { max_length: maxLength, pad_id: padId } = manifest.tokenizer;
  return (texts) => {
    const ids = new BigInt64Array(texts.length * maxLength).fill(BigInt(padId));
    const mask = new BigInt64Array(texts.length * maxLength);
    texts.forEach((text, row) => {
      const encoded: number[] = tokenizer.encode(text, { add_special_tokens: true }).ids;
      const length = Math.min(encoded.length, maxLength);
      for (let k = 0; k < length; k++) {
        ids[row * maxLength + k] = BigInt(encoded[k]!);
        mask[row * maxLength + k] = 1n;
      }
    });
    const tensors: Record<string, ort.Tensor> = {};
    for (const input of manifest.inputs) {
      tensors[input.name] = new ort.Tensor('int64', input.role === 'attention_mask' ? mask : ids, [texts.length, maxLength]);
    }
    return tensors;
  };
}

/** Reads a model package: its manifest, its tokenizer as an `encode` for batches of texts, and an ONNX Runtime session with default options. */
export async function loadModel(packageDir: string): Promise<LoadedModel> {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'maas.json'), 'utf8')) as Manifest;
  const tokenizerText = readFileSync(path.join(packageDir, manifest.tokenizer.file), 'utf8');
  const encode = manifest.tokenizer.kind === 'keras' ? kerasEncoder(manifest, tokenizerText) : huggingfaceEncoder(manifest, tokenizerText);
  const session = await ort.InferenceSession.create(path.join(packageDir, manifest.model_file));
  return { manifest, session, encode };
}

function labelOf(manifest: Manifest, row: Float32Array): { label: string; score: number } {
  if (row.length === 1) {
    const score = manifest.output_activation === 'sigmoid' ? 1 / (1 + Math.exp(-row[0]!)) : row[0]!;
    return score >= 0.5 ? { label: manifest.labels[1]!, score } : { label: manifest.labels[0]!, score: 1 - score };
  }
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  let sum = 0;
  for (let k = 0; k < row.length; k++) sum += Math.exp(row[k]! - row[best]!);
  return { label: manifest.labels[best]!, score: 1 / sum };
}

/** Whether `metadata` carries exactly one `authorization: Bearer <token>` whose SHA-256 is `expected`. */
export function bearerTokenMatches(metadata: grpc.Metadata, expected: Buffer): boolean {
  const values = metadata.get('authorization');
  if (values.length !== 1) return false;
  const match = /^Bearer\s+(\S+)$/i.exec(String(values[0]));
  if (!match) return false;
  return timingSafeEqual(createHash('sha256').update(match[1]!).digest(), expected);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { cert: { type: 'string' }, key: { type: 'string' }, 'token-sha256': { type: 'string' } },
    allowPositionals: true,
  });
  if (!values.cert || !values.key || !/^[0-9a-f]{64}$/.test(values['token-sha256'] ?? '')) {
    throw new Error('needs --cert, --key and --token-sha256 (64 lowercase hex digits)');
  }
  const tokenSha256 = Buffer.from(values['token-sha256']!, 'hex');
  const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(values.cert), private_key: readFileSync(values.key) }], false);
  const models = new Map<string, LoadedModel>();
  for (const dir of positionals) {
    const model = await loadModel(dir);
    models.set(model.manifest.name, model);
  }
  const classify = async (call: grpc.ServerUnaryCall<ClassifyRequest__Output, ClassifyResponse>, callback: grpc.sendUnaryData<ClassifyResponse>) => {
    if (!bearerTokenMatches(call.metadata, tokenSha256)) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'a valid bearer token is required' });
    const model = models.get(call.request.model);
    if (!model) return callback({ code: grpc.status.NOT_FOUND, details: `model ${call.request.model} not found` });
    try {
      const { texts } = call.request;
      const outputs = await model.session.run(model.encode(texts));
      const values = outputs[model.manifest.outputs[0]!.name]!.data as Float32Array;
      const width = values.length / texts.length;
      const predictions = texts.map((_, row) => ({
        ...labelOf(model.manifest, values.subarray(row * width, (row + 1) * width)),
        model_version: model.manifest.version,
      }));
      callback(null, { predictions });
    } catch (error) {
      callback({ code: grpc.status.INTERNAL, details: (error as Error).message });
    }
  };
  const server = new grpc.Server();
  server.addService(contracts().maas.v1.Gateway.service, { Classify: classify });
  serveUntilStopped(server, 'naive peer', credentials);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`naive peer: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  });
}
