/**
 * Shadow traffic: while a rollout has mirror_percent > 0, that share of the Classify calls the stable version
 * answered is sent again, with the same texts, to the canary, and the two answers are compared per text. The
 * caller has its answer from stable before the mirrored call even starts, so a slow, failing or overloaded
 * canary can never slow or fail it; the comparison feeds the metrics a rollout's analysis reads:
 *
 * - maas_gateway_mirror_calls_total{model, stable_version, candidate_version, result}: mirrored calls by
 *   outcome (ok; error: the canary failed or missed the mirror deadline; dropped: not sent because too many
 *   mirrored calls were in flight or the canary's queue was full).
 * - maas_gateway_mirror_predictions_total{model, stable_version, candidate_version, agreement}: texts whose
 *   labels agree or disagree.
 * - maas_gateway_mirror_score_difference{model, stable_version, candidate_version}: |score difference| of the
 *   texts whose labels agree (how far the candidate's confidence drifts where it gives the same answer).
 *
 * The mirrored call goes through the gateway's one batch path (the coalescer and its batch executor), so it is
 * tokenized, batched and post-processed exactly as the canary's own traffic is.
 */
import type { ModelManifest__Output } from '@maas/protos';
import { hasStatus, recordSpanError, recordingSpan, serviceTracer, SPAN_ATTRIBUTES, type Logger } from '@maas/shared';
import { Status } from '@maas/protos';
import { ROOT_CONTEXT, SpanKind, trace, type Link } from '@opentelemetry/api';
import * as client from 'prom-client';
import type { AnsweredClassify, ClassifyCoalescer } from './classify-handler.js';
import type { LabelScore } from './postprocess.js';
import type { RouteDecision } from './router.js';

const mirrorTracer = serviceTracer('maas-gateway');

/** Buckets of |score difference| (scores are probabilities, 0–1): fine near 0, where equal models sit. */
const SCORE_DIFFERENCE_BUCKETS = [0.0001, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

type PairLabel = 'model' | 'stable_version' | 'candidate_version';

export interface MirrorMetrics {
  calls: client.Counter<PairLabel | 'result'>;
  predictions: client.Counter<PairLabel | 'agreement'>;
  scoreDifference: client.Histogram<PairLabel>;
}

export function createMirrorMetrics(options: { registry: client.Registry; inFlight: () => number }): MirrorMetrics {
  const registers = [options.registry];
  const pair: PairLabel[] = ['model', 'stable_version', 'candidate_version'];
  new client.Gauge({
    name: 'maas_gateway_mirror_in_flight',
    help: 'Mirrored (shadow) Classify calls in flight to canaries',
    registers,
    collect() {
      this.set(options.inFlight());
    },
  });
  return {
    calls: new client.Counter({
      name: 'maas_gateway_mirror_calls_total',
      help: 'Classify calls mirrored from the stable version to the canary, by result (ok, error, dropped)',
      labelNames: [...pair, 'result'],
      registers,
    }),
    predictions: new client.Counter({
      name: 'maas_gateway_mirror_predictions_total',
      help: 'Texts of mirrored calls whose labels the stable version and the candidate agree or disagree on',
      labelNames: [...pair, 'agreement'],
      registers,
    }),
    scoreDifference: new client.Histogram({
      name: 'maas_gateway_mirror_score_difference',
      help: 'Absolute difference of the scores of stable and candidate, for texts of mirrored calls whose labels agree',
      labelNames: pair,
      buckets: SCORE_DIFFERENCE_BUCKETS,
      registers,
    }),
  };
}

/** Where the routing state says a stable answer may be mirrored (see RoutingState.mirrorTarget). */
export interface MirrorTarget {
  version: string;
  manifest: ModelManifest__Output;
  /** Percent (0–100) of the stable calls to mirror. */
  percent: number;
}

export interface TrafficMirrorOptions {
  /** The gateway's Classify coalescer: mirrored calls take the same batch path as any call. */
  coalescer: ClassifyCoalescer;
  /** The canary to mirror a stable answer to, if any (RoutingState.mirrorTarget). */
  targetOf: (model: string, decision: RouteDecision) => MirrorTarget | undefined;
  /** Where the mirror metrics are registered (the gateway's /metrics registry). */
  registry: client.Registry;
  /** Deadline of one mirrored call, from when it is sent. */
  timeoutMs: number;
  /** Most mirrored calls in flight at once; more are dropped (never queued). */
  maxInFlight: number;
  logger: Logger;
  /** Uniform [0, 1) source for the mirror draw (tests pass a fixed one). */
  random?: () => number;
}

/** Compares the labels and scores of two answers to the same texts, text by text, into the mirror metrics. */
export function compareAnswers(
  metrics: MirrorMetrics,
  labels: Record<PairLabel, string>,
  stable: readonly LabelScore[],
  candidate: readonly LabelScore[],
): void {
  let agree = 0;
  for (const [index, answer] of stable.entries()) {
    const other = candidate[index];
    if (!other || other.label !== answer.label) continue;
    agree += 1;
    metrics.scoreDifference.observe(labels, Math.abs(answer.score - other.score));
  }
  if (agree > 0) metrics.predictions.inc({ ...labels, agreement: 'agree' }, agree);
  if (stable.length > agree) metrics.predictions.inc({ ...labels, agreement: 'disagree' }, stable.length - agree);
}

/**
 * Mirrors a share of stable answers to the canary (fire and forget). `offer` is the hook the Classify handler
 * calls with each answer: synchronous, it never throws and never waits for the mirrored call.
 */
export class TrafficMirror {
  private inFlight = 0;
  private closed = false;
  private readonly random: () => number;
  private readonly metrics: MirrorMetrics;

  constructor(private readonly options: TrafficMirrorOptions) {
    this.random = options.random ?? Math.random;
    this.metrics = createMirrorMetrics({ registry: options.registry, inFlight: () => this.inFlight });
  }

  /** Mirrored calls in flight now. */
  get pending(): number {
    return this.inFlight;
  }

  /** Decides whether to mirror an answered call and, if so, sends it to the canary and compares. */
  offer(answer: AnsweredClassify): void {
    if (this.closed) return;
    let target: MirrorTarget | undefined;
    try {
      target = this.options.targetOf(answer.model, answer.decision);
    } catch (error) {
      this.options.logger.warn({ err: error, model: answer.model }, 'mirror target lookup failed; not mirroring');
      return;
    }
    if (!target || this.random() * 100 >= target.percent) return;
    const labels = { model: answer.model, stable_version: answer.decision.version, candidate_version: target.version };
    if (this.inFlight >= this.options.maxInFlight) {
      this.metrics.calls.inc({ ...labels, result: 'dropped' });
      return;
    }
    this.inFlight += 1;
    // Called inside the answered request's handler: its span, if recorded, is what the mirror's own trace links to.
    const caller = recordingSpan()?.spanContext();
    void this.mirror(answer, target, labels, caller ? [{ context: caller }] : []).finally(() => (this.inFlight -= 1));
  }

  /** Stops mirroring; calls in flight finish (or fail) on their own deadline. */
  close(): void {
    this.closed = true;
  }

  private async mirror(answer: AnsweredClassify, target: MirrorTarget, labels: Record<PairLabel, string>, links: Link[]): Promise<void> {
    const { metrics } = this;
    // Its own trace (a root span linked to the answered request): shadow work is not part of the caller's
    // request, which has been answered already, and must not write its batch's figures onto the caller's span.
    // Only when the caller's trace is recorded, so an unsampled caller costs nothing here.
    const span =
      links.length > 0
        ? mirrorTracer.startSpan(
            'maas.gateway.mirror',
            {
              root: true,
              kind: SpanKind.INTERNAL,
              links,
              attributes: {
                [SPAN_ATTRIBUTES.model]: answer.model,
                [SPAN_ATTRIBUTES.modelVersion]: target.version,
                [SPAN_ATTRIBUTES.route]: 'mirror',
                [SPAN_ATTRIBUTES.texts]: answer.texts.length,
              },
            },
            ROOT_CONTEXT,
          )
        : undefined;
    let results: LabelScore[];
    try {
      results = await this.options.coalescer.submit({
        model: answer.model,
        version: target.version,
        texts: answer.texts,
        meta: { manifest: target.manifest, traceContext: span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT },
        deadline: new Date(Date.now() + this.options.timeoutMs),
      });
    } catch (error) {
      if (span) recordSpanError(span, error);
      span?.end();
      // A full canary queue is load shedding, not a canary failure: the analysis must not read it as errors.
      metrics.calls.inc({ ...labels, result: hasStatus(error, Status.RESOURCE_EXHAUSTED) ? 'dropped' : 'error' });
      return;
    }
    span?.end();
    metrics.calls.inc({ ...labels, result: 'ok' });
    compareAnswers(metrics, labels, answer.results, results);
  }
}
