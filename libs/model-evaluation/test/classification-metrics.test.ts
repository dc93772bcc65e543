import test from 'ava';
import { agreement, binaryMetrics, confusionMatrix, formatMetrics, thresholdLabels } from '../src/classification-metrics.js';

test('metrics of a hand-made confusion example', (t) => {
  // 4 positives (3 found), 6 negatives (2 false alarms): tp 3, fn 1, fp 2, tn 4.
  const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const predicted = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0];
  t.deepEqual(confusionMatrix(labels, predicted), { truePositives: 3, falsePositives: 2, trueNegatives: 4, falseNegatives: 1 });
  const m = binaryMetrics(labels, predicted);
  t.is(m.count, 10);
  t.is(m.accuracy, 0.7);
  t.is(m.precision, 0.6);
  t.is(m.recall, 0.75);
  t.true(Math.abs(m.f1 - 2 / 3) < 1e-12, `f1 ${m.f1}`);
});

test('ratios with an empty denominator are 0, not NaN', (t) => {
  const m = binaryMetrics([0, 0, 1], [0, 0, 0]);
  t.is(m.precision, 0);
  t.is(m.recall, 0);
  t.is(m.f1, 0);
  t.is(m.accuracy, 2 / 3);
});

test('a score of exactly 0.5 is labelled positive', (t) => {
  t.deepEqual(Array.from(thresholdLabels(Float32Array.from([0.49, 0.5, 0.51, 0]))), [0, 1, 1, 0]);
});

test('agreement counts equal labels', (t) => {
  t.is(agreement([1, 0, 1, 1], [1, 1, 1, 1]), 0.75);
  t.throws(() => agreement([1], [1, 0]));
});

test('label and prediction counts must match', (t) => {
  t.throws(() => binaryMetrics([1, 0], [1]));
});

test('the printed report shows the matrix with true labels as rows', (t) => {
  const text = formatMetrics('demo', binaryMetrics([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]), ['negative', 'positive']);
  const lines = text.split('\n');
  t.regex(lines[0]!, /accuracy 0\.7000 +precision 0\.6000 +recall 0\.7500 +f1 0\.6667/);
  t.regex(lines[2]!, /negative +4 +2$/);
  t.regex(lines[3]!, /positive +1 +3$/);
});
