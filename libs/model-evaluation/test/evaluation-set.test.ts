import test from 'ava';
import { formatEvaluationSet, parseEvaluationSet } from '../src/evaluation-set.js';

const labels = ['negative', 'positive'];

test('an evaluation set round-trips through its JSON lines; blank lines are skipped', (t) => {
  const set = { texts: ['good', 'bad "quoted"\nline'], labels: ['positive', 'negative'] };
  const text = formatEvaluationSet(set);
  t.is(text.split('\n').length, 3);
  t.deepEqual(parseEvaluationSet(`${text}\n\n`, { labels }), set);
});

test('every problem names the file and line', (t) => {
  const problem = (content: string) => t.throws(() => parseEvaluationSet(content, { labels, source: 'eval.jsonl' }))!.message;
  t.is(problem('{"text":"a","label":"positive"}\n{"text":"b","label":1}'), 'eval.jsonl:2: "label" must be one of "negative", "positive" (got 1)');
  t.is(problem('{"text":"a","label":"neutral"}'), 'eval.jsonl:1: "label" must be one of "negative", "positive" (got "neutral")');
  t.is(problem('{"label":"positive"}'), 'eval.jsonl:1: "text" must be a string');
  t.regex(problem('{oops'), /^eval\.jsonl:1: not JSON/);
  t.is(problem('\n'), 'eval.jsonl: has no examples');
});
