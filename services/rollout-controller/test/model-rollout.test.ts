// ModelRollout documents: parsing, durations, the action annotation, and the controller's configuration.
import { loadConfig, parseDuration, parseModelRollout, requestedAction } from '@maas/rollout-controller';
import test from 'ava';

const VALID = `apiVersion: maas.dev/v1alpha1
kind: ModelRollout
metadata:
  name: sentiment
  annotations:
    maas.dev/action: resume@2026-01-01T00:00:00.000Z
spec:
  model: sentiment
  stable: production
  candidate: "2"
  steps:
    - setWeight: 10
    - pause: {duration: 30s}
`;

test('a valid document parses; its action annotation is read', (t) => {
  const doc = parseModelRollout(VALID, 'sentiment.yaml');
  t.is(doc.spec.stable, 'production');
  t.deepEqual(requestedAction(doc), { action: 'resume', raw: 'resume@2026-01-01T00:00:00.000Z' });
});

test('every problem of a document is named with its field and the file', (t) => {
  const error = t.throws(() =>
    parseModelRollout(
      VALID.replace('name: sentiment', 'name: Sentiment_1').replace('setWeight: 10', 'setWeight: 110').replace('candidate: "2"', 'candidate: production'),
      'bad.yaml',
    ),
  );
  t.regex(error!.message, /^bad\.yaml: invalid ModelRollout:/);
  t.regex(error!.message, /metadata\.name must be a DNS label/);
  t.regex(error!.message, /spec\.candidate must differ from spec\.stable/);
  t.regex(error!.message, /spec\.steps\[0\]\.setWeight must be a whole number from 0 to 100 \(got 110\)/);
  t.regex(t.throws(() => parseModelRollout('a: [', 'x.yaml'))!.message, /^x\.yaml: not YAML/);
});

test('durations are Kubernetes-style', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('1.5s'), 1500);
  t.is(parseDuration('2m'), 120_000);
  t.throws(() => parseDuration('2 minutes'), { message: /is not a duration/ });
});

test('the configuration names every bad variable at once', (t) => {
  const error = t.throws(() => loadConfig({ ROLLOUT_SOURCE: 'etcd', PROMETHEUS_URL: 'not a url', RESYNC_INTERVAL_MS: '1' }));
  t.regex(error!.message, /ROLLOUT_SOURCE/);
  t.regex(error!.message, /PROMETHEUS_URL/);
  t.regex(error!.message, /RESYNC_INTERVAL_MS/);
  t.is(loadConfig({ TLS_MODE: 'plaintext' }).source, 'local');
});
