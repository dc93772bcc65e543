import test from 'ava';
import { summarizeProblems } from '../src/package-receiver.js';

test('a long list of manifest problems is cut to fit a status message, saying how many were left out', (t) => {
  const problems = Array.from({ length: 1000 }, (_, index) => `files[${index}].sha256: must be 64 lowercase hex digits`);
  const text = summarizeProblems(problems);
  t.true(text.length < 4_100);
  t.true(text.startsWith('files[0].sha256'));
  t.regex(text, /… and \d+ more problems$/);
  t.is(summarizeProblems(['a', 'b']), 'a; b');
});
