// The Grafana dashboards of maas, one per concern, as data: scripts/gen-observability.mjs renders each into
// Grafana dashboard JSON (k8s/components/observability/dashboards/, provisioned by ConfigMap). Edit here, then
// `node scripts/gen-observability.mjs`; the suite fails on drift, and checks every metric named in a query
// against what a running mesh exports (or a recording rule in observability/prometheus/maas-rules.yaml).
//
// Latency panels on raw histograms ask for exemplars: with Prometheus' exemplar storage on and the Grafana
// Prometheus data source's exemplar link set to trace_id → Jaeger, a dot on the p99 line opens that request's
// trace.

/** A time series panel: title, queries ([expr, legend]), unit, and options. */
const timeseries = (title, queries, { unit = 'short', stack = false, exemplar = false, description } = {}) => ({
  type: 'timeseries',
  title,
  description,
  unit,
  stack,
  targets: queries.map(([expr, legendFormat]) => ({ expr, legendFormat, exemplar })),
});

/** A table of the current values of instant queries. */
const table = (title, queries, { description } = {}) => ({
  type: 'table',
  title,
  description,
  unit: 'short',
  targets: queries.map(([expr, legendFormat]) => ({ expr, legendFormat, instant: true, format: 'table' })),
});

/** A single number. */
const stat = (title, expr, { unit = 'short', description } = {}) => ({
  type: 'stat',
  title,
  description,
  unit,
  targets: [{ expr, legendFormat: '', instant: true }],
});

/** The mean of a histogram per version of the chosen model ($model, $version): [expr, legend]. */
const meanPerVersion = (histogram, legend) => {
  const rate = (series) => `sum by (version) (rate(${histogram}_${series}{model="$model",version=~"$version"}[$__rate_interval]))`;
  return [`${rate('sum')} / ${rate('count')}`, `${legend} v{{version}}`];
};

/** Template variables: the model, and the versions of it inference has loaded. */
const modelVariable = { name: 'model', query: 'label_values(maas_gateway_routable_versions, model)', multi: false };
const versionVariable = { name: 'version', query: 'label_values(maas_inference_model_ready{model="$model"}, version)', multi: true };

export const dashboards = [
  {
    uid: 'maas-mesh-overview',
    title: 'maas / Mesh overview',
    description: 'Traffic, failures, latency and health of the whole mesh: the first dashboard to open.',
    variables: [],
    rows: [
      {
        title: 'Service level (SLOs: 99.9 % without server-side failure, 99 % of Classify within 250 ms)',
        panels: [
          stat('Failed calls, last hour', 'max(model:maas_gateway_request_errors:ratio_rate1h)', {
            unit: 'percentunit',
            description: 'Worst model; the budget is 0.1 %',
          }),
          stat('Classify slower than 250 ms, last hour', 'max(model:maas_gateway_request_slow:ratio_rate1h)', {
            unit: 'percentunit',
            description: 'Worst model; the budget is 1 %',
          }),
          stat('Firing maas alerts', 'count(ALERTS{alertname=~"Maas.*",alertstate="firing"}) or vector(0)'),
          stat('Targets down', 'count(up{job=~"gateway|tokenizer|inference|model-registry"} == 0) or vector(0)'),
        ],
      },
      {
        title: 'Traffic',
        panels: [
          timeseries('Calls per second by model', [['sum by (model) (model_code:maas_gateway_requests:rate5m)', '{{model}}']], { unit: 'reqps', stack: true }),
          timeseries('Server-side failure ratio by model', [['model:maas_gateway_request_errors:ratio_rate5m', '{{model}}']], { unit: 'percentunit' }),
          timeseries('Failures by code', [[`sum by (model, code) (model_code:maas_gateway_requests:rate5m{code!="OK"})`, '{{model}} {{code}}']], {
            unit: 'reqps',
            stack: true,
          }),
          timeseries(
            'Classify latency at the gateway',
            [
              ['histogram_quantile(0.5, sum by (le) (rate(maas_gateway_request_duration_seconds_bucket{method="Classify"}[$__rate_interval])))', 'p50'],
              ['histogram_quantile(0.99, sum by (le) (rate(maas_gateway_request_duration_seconds_bucket{method="Classify"}[$__rate_interval])))', 'p99'],
            ],
            { unit: 's', exemplar: true },
          ),
        ],
      },
      {
        title: 'Hops',
        panels: [
          timeseries(
            'p99 of each downstream call (per batch)',
            [['histogram_quantile(0.99, sum by (le, hop) (rate(maas_gateway_downstream_duration_seconds_bucket[$__rate_interval])))', '{{hop}}']],
            { unit: 's', exemplar: true },
          ),
          timeseries(
            'gRPC calls per second by service and method',
            [['sum by (maas_service, method) (rate(maas_grpc_server_requests_total[$__rate_interval]))', '{{maas_service}} {{method}}']],
            { unit: 'reqps' },
          ),
          timeseries(
            'p99 handler time by service and method',
            [
              [
                'histogram_quantile(0.99, sum by (le, maas_service, method) (rate(maas_grpc_server_request_duration_seconds_bucket[$__rate_interval])))',
                '{{maas_service}} {{method}}',
              ],
            ],
            { unit: 's', exemplar: true },
          ),
          timeseries(
            'Tokenizer encode time p99 by kind',
            [['histogram_quantile(0.99, sum by (le, kind) (rate(maas_tokenizer_encode_duration_seconds_bucket[$__rate_interval])))', '{{kind}}']],
            { unit: 's', exemplar: true },
          ),
        ],
      },
      {
        title: 'Processes',
        panels: [
          timeseries(
            'Resident memory',
            [['sum by (maas_service, instance) (process_resident_memory_bytes{maas_service!=""})', '{{maas_service}} {{instance}}']],
            { unit: 'bytes' },
          ),
          timeseries(
            'Event loop lag p99',
            [['max by (maas_service, instance) (nodejs_eventloop_lag_p99_seconds{maas_service!=""})', '{{maas_service}} {{instance}}']],
            { unit: 's' },
          ),
          timeseries(
            'CPU',
            [['sum by (maas_service, instance) (rate(process_cpu_seconds_total{maas_service!=""}[$__rate_interval]))', '{{maas_service}} {{instance}}']],
            { unit: 'short' },
          ),
          table('Releases running', [['count by (maas_service, version, node_version) (maas_build_info)', '']], {
            description: 'Instances per service and maas release',
          }),
        ],
      },
    ],
  },
  {
    uid: 'maas-model-versions',
    title: 'maas / Model versions',
    description: 'One model, each of its versions side by side: traffic split, failures, latency, batching, queues, readiness.',
    variables: [modelVariable, versionVariable],
    rows: [
      {
        title: 'Traffic and failures',
        panels: [
          timeseries(
            'Traffic split (routed per second by version and target)',
            [['model_version:maas_gateway_routed:rate5m{model="$model"}', 'v{{version}} {{target}}']],
            { unit: 'reqps', stack: true },
          ),
          timeseries('Route fallbacks', [['model_version:maas_gateway_route_fallbacks:rate5m{model="$model"}', 'answered by v{{version}}']], { unit: 'reqps' }),
          timeseries(
            'Inference failure ratio by version',
            [['model_version:maas_inference_request_errors:ratio_rate5m{model="$model",version=~"$version"}', 'v{{version}}']],
            { unit: 'percentunit' },
          ),
          timeseries(
            'Inference calls by version and code',
            [['sum by (version, code) (rate(maas_inference_requests_total{model="$model",version=~"$version"}[$__rate_interval]))', 'v{{version}} {{code}}']],
            { unit: 'reqps', stack: true },
          ),
        ],
      },
      {
        title: 'Latency',
        panels: [
          timeseries(
            'Gateway end to end (model)',
            [['model:maas_gateway_request_duration_seconds:histogram_quantile5m{model="$model"}', '{{method}} p{{quantile}}']],
            { unit: 's' },
          ),
          timeseries(
            'Gateway end to end p99, with exemplars',
            [['histogram_quantile(0.99, sum by (le) (rate(maas_gateway_request_duration_seconds_bucket{model="$model"}[$__rate_interval])))', 'p99']],
            { unit: 's', exemplar: true },
          ),
          timeseries(
            'Inference queue wait by version',
            [['model_version:maas_inference_queue_wait_seconds:histogram_quantile5m{model="$model",version=~"$version"}', 'v{{version}} p{{quantile}}']],
            { unit: 's' },
          ),
          timeseries(
            'Inference compute per batch by version',
            [['model_version:maas_inference_compute_seconds:histogram_quantile5m{model="$model",version=~"$version"}', 'v{{version}} p{{quantile}}']],
            { unit: 's' },
          ),
          timeseries(
            'Gateway coalescing wait p99 by version',
            [
              [
                'histogram_quantile(0.99, sum by (le, version) (rate(maas_gateway_queue_wait_seconds_bucket{model="$model",version=~"$version"}[$__rate_interval])))',
                'v{{version}}',
              ],
            ],
            { unit: 's', exemplar: true },
          ),
        ],
      },
      {
        title: 'Batching and queues',
        panels: [
          timeseries('Mean batch size', [
            meanPerVersion('maas_gateway_batch_size_texts', 'gateway texts/batch'),
            meanPerVersion('maas_gateway_batch_size_requests', 'gateway calls/batch'),
            meanPerVersion('maas_inference_batch_size_rows', 'inference rows/run'),
            meanPerVersion('maas_inference_batch_size_requests', 'inference calls/run'),
          ]),
          timeseries('Queue depth', [
            ['sum by (version) (maas_gateway_queue_depth_texts{model="$model",version=~"$version"})', 'gateway texts v{{version}}'],
            ['sum by (version) (maas_inference_queue_depth_rows{model="$model",version=~"$version"})', 'inference rows v{{version}}'],
          ]),
          timeseries(
            'Dropped before running',
            [
              [
                'sum by (version, reason) (rate(maas_inference_dropped_requests_total{model="$model",version=~"$version"}[$__rate_interval]))',
                'v{{version}} {{reason}}',
              ],
            ],
            { unit: 'reqps' },
          ),
          timeseries(
            'Texts truncated by the tokenizer',
            [['sum (rate(maas_tokenizer_truncated_texts_total{model="$model"}[$__rate_interval]))', 'truncated']],
            { unit: 'short' },
          ),
        ],
      },
      {
        title: 'Readiness',
        panels: [
          table('Loaded and ready at each inference instance', [['maas_inference_model_ready{model="$model"}', '']]),
          table('Routable at each gateway (1 ready)', [['maas_gateway_routable_versions{model="$model"}', '']]),
        ],
      },
    ],
  },
  {
    uid: 'maas-rollouts',
    title: 'maas / Rollouts',
    description: "Every model's rollout: which version has which role, where traffic goes, how canaries compare, and loads.",
    variables: [],
    rows: [
      {
        title: 'Roles and traffic',
        panels: [
          table('Versions by role (1 = ready at every gateway)', [['model_version_role:maas_gateway_routable_versions:min', '']]),
          timeseries('Traffic split', [['model_version:maas_gateway_routed:rate5m', '{{model}} v{{version}} {{target}}']], { unit: 'reqps', stack: true }),
          timeseries('Route fallbacks', [['model_version:maas_gateway_route_fallbacks:rate5m', '{{model}} answered by v{{version}}']], { unit: 'reqps' }),
        ],
      },
      {
        title: 'Canary against stable',
        panels: [
          timeseries(
            'Inference failure ratio by role',
            [
              [
                'model_version:maas_inference_request_errors:ratio_rate5m * on (model, version) group_left (role) (model_version_role:maas_gateway_routable_versions:min{role=~"stable|canary"} * 0 + 1)',
                '{{model}} {{role}} v{{version}}',
              ],
            ],
            { unit: 'percentunit' },
          ),
          timeseries(
            'Compute p99 by role',
            [
              [
                'model_version:maas_inference_compute_seconds:histogram_quantile5m{quantile="0.99"} * on (model, version) group_left (role) (model_version_role:maas_gateway_routable_versions:min{role=~"stable|canary"} * 0 + 1)',
                '{{model}} {{role}} v{{version}}',
              ],
            ],
            { unit: 's' },
          ),
          table('Rollout alerts firing', [
            ['ALERTS{alertname=~"MaasCanary.*|MaasRouteFallbacks|MaasRoutableVersionNotReady|MaasModelLoadFailing",alertstate="firing"}', ''],
          ]),
        ],
      },
      {
        title: 'Shadow traffic (mirror_percent)',
        panels: [
          timeseries(
            'Label agreement, candidate with stable',
            [
              [
                'sum by (model, stable_version, candidate_version) (rate(maas_gateway_mirror_predictions_total{agreement="agree"}[5m])) / sum by (model, stable_version, candidate_version) (rate(maas_gateway_mirror_predictions_total[5m]))',
                '{{model}} v{{candidate_version}} vs v{{stable_version}}',
              ],
            ],
            { unit: 'percentunit', description: "Share of mirrored texts on which the candidate gives the stable version's label" },
          ),
          timeseries('Mean |score difference| where labels agree', [
            [
              'sum by (model, candidate_version) (rate(maas_gateway_mirror_score_difference_sum[5m])) / sum by (model, candidate_version) (rate(maas_gateway_mirror_score_difference_count[5m]))',
              '{{model}} v{{candidate_version}}',
            ],
          ]),
          timeseries(
            'Mirrored calls by result',
            [
              [
                'sum by (model, candidate_version, result) (rate(maas_gateway_mirror_calls_total[$__rate_interval]))',
                '{{model}} v{{candidate_version}} {{result}}',
              ],
            ],
            { unit: 'reqps' },
          ),
        ],
      },
      {
        title: 'Loading',
        panels: [
          timeseries('Model loads by result', [
            ['sum by (model, version, result) (increase(maas_inference_model_loads_total[$__rate_interval]))', '{{model}} v{{version}} {{result}}'],
          ]),
          timeseries(
            'Model load time (max p99 over an hour)',
            [['histogram_quantile(0.99, sum by (le, model, version) (rate(maas_inference_model_load_seconds_bucket[1h])))', '{{model}} v{{version}}']],
            { unit: 's', description: 'The last bucket is the inference startupProbe budget (600 s)' },
          ),
          timeseries('Tokenizer loads by result', [['sum by (result) (increase(maas_tokenizer_load_duration_seconds_count[$__rate_interval]))', '{{result}}']]),
          table('Kept only for draining traffic', [['maas_inference_model_draining == 1', '']]),
          timeseries('Tokenizers loaded', [['sum by (instance) (maas_tokenizer_loaded_tokenizers)', '{{instance}}']]),
        ],
      },
      {
        title: 'Registry and events',
        panels: [
          timeseries(
            'Registry changes',
            [
              ['sum (rate(maas_registry_registrations_total[$__rate_interval]))', 'versions registered'],
              ['sum (rate(maas_registry_rollout_changes_total[$__rate_interval]))', 'rollout changes'],
            ],
            { unit: 'ops' },
          ),
          timeseries(
            'Events published by result',
            [[`sum by (kind, result) (rate(maas_registry_events_published_total[$__rate_interval]))`, '{{kind}} {{result}}']],
            { unit: 'ops' },
          ),
          stat('Registry revision', 'max(maas_registry_revision)'),
          timeseries(
            'Artifact bytes',
            [
              ['sum (rate(maas_registry_artifact_received_bytes_total[$__rate_interval]))', 'received'],
              ['sum (rate(maas_registry_artifact_sent_bytes_total[$__rate_interval]))', 'sent'],
              ['max (maas_registry_blob_stored_bytes)', 'stored (not a rate)'],
            ],
            { unit: 'bytes' },
          ),
          stat('Blobs stored', 'max(maas_registry_blobs)'),
        ],
      },
    ],
  },
];
