/**
 * Loads one model version: manifest (GetVersion) → signature → ONNX file (content-addressed cache, verified)
 * → session workers → checks that the graph matches the manifest → warm-up (one run per worker with a dummy
 * batch built from the manifest's input shapes) → a batcher in front of the pool. Throws on any failure,
 * having released whatever it started.
 */
import fs from 'node:fs/promises';
import type { ModelManifest__Output, ModelRegistryClient, ModelVersion__Output } from '@maas/protos';
import { versionFileDigest, VersionFileError, type ArtifactDigest } from '@maas/registry-client';
import { type Logger, unaryCall } from '@maas/shared';
import { Batcher, type BatcherObserver } from './batcher.js';
import type { InferenceConfig } from './config.js';
import { DATATYPES, datatypeOfOrtType, elementCount, formatShape, type HostTensor, isDatatype, packBytesElements } from './datatypes.js';
import { fetchModelFile } from './model-cache.js';
import { embeddingBoundsOf } from './onnx-index-bounds.js';
import { SessionPool } from './session-pool.js';
import type { SessionTensorInfo } from './session-protocol.js';
import type { ModelSignature, TensorSignature } from './tensor-codec.js';

/** A version ready to serve. */
export interface LoadedVersion {
  model: string;
  version: string;
  manifest: ModelManifest__Output;
  signature: ModelSignature;
  pool: SessionPool;
  batcher: Batcher;
  /** The execution provider its sessions use. */
  provider: string;
  /** Drains the queue (queued and running requests finish), then stops the workers. */
  unload(): Promise<void>;
}

export type LoaderConfig = Pick<
  InferenceConfig,
  | 'executionProviders'
  | 'intraOpThreads'
  | 'interOpThreads'
  | 'threadSpinning'
  | 'graphOptimizationLevel'
  | 'sessionWorkers'
  | 'modelCacheDir'
  | 'maxBatchSize'
  | 'maxBatchTokens'
  | 'maxQueueDelayMs'
  | 'maxQueueRows'
  | 'splitMinComputeMs'
  | 'padDynamicDims'
  | 'registryTimeoutMs'
  | 'modelDownloadTimeoutMs'
  | 'modelRetryBackoffMs'
>;

export interface LoadVersionOptions {
  model: string;
  version: string;
  registry: ModelRegistryClient;
  config: LoaderConfig;
  logger: Logger;
  observer?: BatcherObserver;
  /** Called if the version's workers die after it loaded. */
  onBroken?: (reason: string) => void;
}

/** The signature a manifest declares; throws when it names a datatype this server cannot serve. */
export function signatureFromManifest(manifest: ModelManifest__Output): ModelSignature {
  const convert =
    (kind: string) =>
    (spec: { name: string; datatype: string; shape: number[] }): TensorSignature => {
      if (!isDatatype(spec.datatype))
        throw new Error(`${kind} ${JSON.stringify(spec.name)} has datatype ${JSON.stringify(spec.datatype)}, which this server cannot serve`);
      return { name: spec.name, datatype: spec.datatype, shape: spec.shape.map(Number) };
    };
  const inputs = manifest.inputs.map(convert('input'));
  const outputs = manifest.outputs.map(convert('output'));
  if (inputs.length === 0 || outputs.length === 0) throw new Error('the manifest declares no inputs or no outputs');
  const batchable = [...inputs, ...outputs].every((spec) => spec.shape.length > 0 && spec.shape[0] === -1);
  return { model: manifest.name, version: manifest.version, inputs, outputs, batchable };
}

/**
 * Checks the manifest's tensors against what the ONNX graph declares and tightens dims the manifest leaves
 * dynamic but the graph fixes (so a wrong size is a clear INVALID_ARGUMENT, not a runtime error).
 */
export function reconcileSignature(signature: ModelSignature, session: { inputs: SessionTensorInfo[]; outputs: SessionTensorInfo[] }): ModelSignature {
  const check = (kind: 'input' | 'output', specs: TensorSignature[], actual: SessionTensorInfo[]) =>
    specs.map((spec) => {
      const found = actual.find((info) => info.name === spec.name);
      if (!found)
        throw new Error(
          `the manifest's ${kind} ${JSON.stringify(spec.name)} is not in the ONNX graph (which has ${actual.map((info) => info.name).join(', ')})`,
        );
      const datatype = datatypeOfOrtType(found.type);
      if (datatype !== spec.datatype)
        throw new Error(`${kind} ${JSON.stringify(spec.name)} is ${spec.datatype} in the manifest but ${found.type} in the ONNX graph`);
      if (found.shape.length === 0) return spec;
      if (found.shape.length !== spec.shape.length) {
        throw new Error(
          `${kind} ${JSON.stringify(spec.name)} has shape ${formatShape(spec.shape)} in the manifest but rank ${found.shape.length} in the ONNX graph`,
        );
      }
      const shape = spec.shape.map((dim, axis) => {
        const graphDim = found.shape[axis];
        if (typeof graphDim !== 'number' || graphDim < 0) return dim;
        if (dim >= 0 && dim !== graphDim)
          throw new Error(`${kind} ${JSON.stringify(spec.name)} dimension ${axis} is ${dim} in the manifest but ${graphDim} in the ONNX graph`);
        return graphDim;
      });
      return { ...spec, shape };
    });
  const inputs = check('input', signature.inputs, session.inputs);
  const missing = session.inputs.filter((info) => !signature.inputs.some((spec) => spec.name === info.name));
  if (missing.length > 0)
    throw new Error(`the ONNX graph's input(s) ${missing.map((info) => JSON.stringify(info.name)).join(', ')} are missing from the manifest`);
  const outputs = check('output', signature.outputs, session.outputs);
  const batchable = [...inputs, ...outputs].every((spec) => spec.shape.length > 0 && spec.shape[0] === -1);
  return { ...signature, inputs, outputs, batchable };
}

/** The signature with each integer input that indexes an embedding table bounded by the table's rows. */
export function withIndexBounds(signature: ModelSignature, bounds: ReadonlyMap<string, number>): ModelSignature {
  const integer = (datatype: string) => /^U?INT(8|16|32|64)$/.test(datatype);
  const inputs = signature.inputs.map((spec) => {
    const bound = bounds.get(spec.name);
    return bound !== undefined && integer(spec.datatype) ? { ...spec, indexBound: bound } : spec;
  });
  return { ...signature, inputs };
}

/** A batch of zeros (empty strings for BYTES) with every dynamic dim set to 1. */
export function warmupInputs(signature: ModelSignature): HostTensor[] {
  return signature.inputs.map((spec) => {
    const shape = spec.shape.map((dim) => (dim < 0 ? 1 : dim));
    const count = elementCount(shape);
    const data =
      spec.datatype === 'BYTES'
        ? packBytesElements(new Array<Uint8Array>(count).fill(new Uint8Array(0)))
        : new Uint8Array(count * DATATYPES[spec.datatype].elementBytes);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
}

export async function loadModelVersion(options: LoadVersionOptions): Promise<LoadedVersion> {
  const { model, version, registry, config, logger } = options;
  const described = await unaryCall<{ model: string; version: string }, ModelVersion__Output>(
    (request, metadata, callOptions, callback) => registry.GetVersion(request, metadata, callOptions, callback),
    { model, version },
    { deadline: config.registryTimeoutMs },
  );
  const manifest = described.manifest;
  if (!manifest) throw new Error('the registry returned no manifest');
  const declared = signatureFromManifest({ ...manifest, name: model, version });
  let expected: ArtifactDigest;
  try {
    expected = versionFileDigest(described, manifest.model_file);
  } catch (error) {
    throw error instanceof VersionFileError ? new Error(`model ${error.message}`) : error;
  }
  const file = await fetchModelFile({
    registry,
    model,
    version,
    file: { path: manifest.model_file, sha256: expected.sha256, size: Number(expected.size_bytes) },
    cacheDir: config.modelCacheDir,
    timeoutMs: config.modelDownloadTimeoutMs,
  });
  logger.info({ model, version, file: file.path, downloaded: file.downloaded }, 'model file ready');

  const pool = await SessionPool.create({
    session: {
      modelPath: file.path,
      executionProviders: config.executionProviders,
      intraOpThreads: config.intraOpThreads,
      interOpThreads: config.interOpThreads,
      threadSpinning: config.threadSpinning,
      graphOptimizationLevel: config.graphOptimizationLevel,
    },
    size: config.sessionWorkers,
    logger: logger.child({ model, version }),
    onBroken: options.onBroken,
  });
  try {
    const signature = withIndexBounds(reconcileSignature(declared, pool), embeddingBoundsOf(await fs.readFile(file.path)));
    const outputs = signature.outputs.map((spec) => spec.name);
    // One run per worker: each has its own session, and the first run of a session pays its lazy setup.
    await Promise.all(Array.from({ length: pool.concurrency }, () => pool.run(warmupInputs(signature), outputs)));
    const batcher = new Batcher({
      signature,
      runner: pool,
      maxBatchSize: config.maxBatchSize,
      maxBatchTokens: config.maxBatchTokens,
      maxQueueDelayMs: config.maxQueueDelayMs,
      maxQueueRows: config.maxQueueRows,
      splitMinComputeMs: config.splitMinComputeMs,
      padDynamicDims: config.padDynamicDims,
      padSide: manifest.tokenizer?.padding_side === 'pre' ? 'pre' : 'post',
      observer: options.observer,
    });
    return {
      model,
      version,
      manifest,
      signature,
      pool,
      batcher,
      provider: pool.provider,
      async unload() {
        await batcher.close();
        await pool.close();
      },
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
