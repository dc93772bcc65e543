/**
 * The Open Inference Protocol handlers (inference.GRPCInferenceService). ModelInfer: resolve the version
 * (empty = the rollout's stable one) → decode and validate the tensors → queue them on the version's batcher
 * (with the caller's deadline and cancellation) → encode the outputs raw when the request was raw, typed
 * otherwise.
 */
import * as grpc from '@grpc/grpc-js';
import type { GRPCInferenceServiceHandlers, ModelInferRequest__Output, ModelInferResponse } from '@maas/protos';
import {
  activeTraceContext,
  annotateActiveSpan,
  deadlineFromCall,
  type HandlerContext,
  SPAN_ATTRIBUTES,
  toStatusObject,
  unary,
  UNKNOWN_LABEL,
} from '@maas/shared';
import type { InferenceConfig } from './config.js';
import type { InferenceMetrics } from './inference-metrics.js';
import type { ModelManager } from './model-manager.js';
import { decodeInferRequest, encodeInferResponse } from './tensor-codec.js';

/** Name ServerMetadata reports. */
export const SERVER_NAME = 'maas-inference';

export interface OipHandlerOptions {
  models: ModelManager;
  config: Pick<InferenceConfig, 'maxTensorBytes'>;
  metrics: InferenceMetrics;
  ctx: HandlerContext;
  /** Whether the versions of the first registry snapshot have settled (ServerReady). */
  isReady: () => boolean;
  /** Reported by ServerMetadata. */
  serverVersion: string;
}

export function createOipHandlers(options: OipHandlerOptions): GRPCInferenceServiceHandlers {
  const { models, metrics, ctx } = options;

  const modelInfer = async (request: ModelInferRequest__Output, call: grpc.ServerUnaryCall<ModelInferRequest__Output, ModelInferResponse>) => {
    let labels = { model: models.knows(request.model_name) ? request.model_name : UNKNOWN_LABEL, version: UNKNOWN_LABEL };
    try {
      const loaded = models.resolve(request.model_name, request.model_version);
      labels = { model: loaded.model, version: loaded.version };
      const decoded = decodeInferRequest(request, loaded.signature, { maxTensorBytes: options.config.maxTensorBytes });
      annotateActiveSpan(() => ({
        [SPAN_ATTRIBUTES.model]: loaded.model,
        [SPAN_ATTRIBUTES.modelVersion]: loaded.version,
        [SPAN_ATTRIBUTES.rows]: decoded.rows,
      }));
      const outputs = await loaded.batcher.submit({
        inputs: decoded.inputs,
        rows: decoded.rows,
        outputs: decoded.outputs,
        deadline: deadlineFromCall(call)?.getTime(),
        isCancelled: () => call.cancelled,
        traceContext: activeTraceContext(),
      });
      const response = encodeInferResponse({ modelName: loaded.model, modelVersion: loaded.version, id: request.id, outputs, raw: decoded.raw });
      metrics.requests.inc({ ...labels, code: 'OK' });
      return response;
    } catch (error) {
      const { code } = toStatusObject(error);
      metrics.requests.inc({ ...labels, code: grpc.status[code] ?? String(code) });
      throw error;
    }
  };

  return {
    ServerLive: unary('ServerLive', async () => ({ live: true }), ctx),
    ServerReady: unary('ServerReady', async () => ({ ready: options.isReady() }), ctx),
    ModelReady: unary(
      'ModelReady',
      async (request) => {
        try {
          models.resolve(request.name, request.version);
          return { ready: true };
        } catch (error) {
          // Unknown model or version stays NOT_FOUND; known but not serving (loading, failed, unreferenced) is "not ready".
          if (toStatusObject(error).code === grpc.status.NOT_FOUND) throw error;
          return { ready: false };
        }
      },
      ctx,
    ),
    ServerMetadata: unary('ServerMetadata', async () => ({ name: SERVER_NAME, version: options.serverVersion, extensions: [] }), ctx),
    ModelMetadata: unary(
      'ModelMetadata',
      async (request) => {
        const loaded = models.resolve(request.name, request.version);
        const tensors = (specs: typeof loaded.signature.inputs) => specs.map((spec) => ({ name: spec.name, datatype: spec.datatype, shape: spec.shape }));
        return {
          name: loaded.model,
          versions: models.readyVersions(loaded.model),
          platform: loaded.manifest.platform || 'onnxruntime_onnx',
          inputs: tensors(loaded.signature.inputs),
          outputs: tensors(loaded.signature.outputs),
        };
      },
      ctx,
    ),
    ModelInfer: unary('ModelInfer', modelInfer, ctx),
  };
}
