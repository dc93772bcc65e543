import test from 'ava';
import { DEFAULT_FILTERS, textToWordSequence, WordSplitter } from '../src/index.js';

test('default filters: 31 ASCII punctuation characters (no apostrophe) plus TAB and LF', (t) => {
  t.is(DEFAULT_FILTERS, '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n');
  t.is(DEFAULT_FILTERS.length, 33);
  t.false(DEFAULT_FILTERS.includes("'"));
});

test('facts examples', (t) => {
  t.deepEqual(textToWordSequence("Don't STOP-me now!"), ["don't", 'stop', 'me', 'now']);
  t.deepEqual(textToWordSequence('cr\rhere nbsp\u00a0here'), ['cr\rhere', 'nbsp\u00a0here']);
  t.deepEqual(textToWordSequence('GNOME’s “quoted” — dash'), ['gnome’s', '“quoted”', '—', 'dash']);
});

test('apostrophes stay, hyphen dot underscore slash plus split', (t) => {
  t.deepEqual(textToWordSequence("gnu's 'em ' rock'n'roll"), ["gnu's", "'em", "'", "rock'n'roll"]);
  t.deepEqual(textToWordSequence('x86_64 C++ a/b 1.5 well-known'), ['x86', '64', 'c', 'a', 'b', '1', '5', 'well', 'known']);
});

test('only TAB and LF among whitespace split; other spaces stay inside words', (t) => {
  t.deepEqual(textToWordSequence('a\tb\nc'), ['a', 'b', 'c']);
  for (const space of ['\r', '\v', '\f', '\u00a0', '\u2003', '\u2028']) {
    t.deepEqual(textToWordSequence(`a${space}b`), [`a${space}b`], JSON.stringify(space));
  }
});

test('runs of separators and separators at the ends produce no empty words', (t) => {
  t.deepEqual(textToWordSequence('   lots   of  space  '), ['lots', 'of', 'space']);
  t.deepEqual(textToWordSequence('...!!!'), []);
  t.deepEqual(textToWordSequence(''), []);
});

test('lower: false keeps case; custom filters and split', (t) => {
  t.deepEqual(textToWordSequence('Hello, World', { lower: false }), ['Hello', 'World']);
  t.deepEqual(textToWordSequence('a-b c', { filters: '' }), ['a-b', 'c']);
  // filters map to the split character, which is the only separator
  t.deepEqual(textToWordSequence('a,b c', { split: ',' }), ['a', 'b c']);
  t.deepEqual(textToWordSequence('é1èé2', { filters: 'è', split: 'é' }), ['1', '2']);
});

test('a multi-character split works like Python str.split(sep)', (t) => {
  t.deepEqual(textToWordSequence('one--two.three----four', { split: '--' }), ['one', 'two', 'three', 'four']);
  // "aaa".split("aa") is ['', 'a'] in Python
  t.deepEqual(textToWordSequence('aaa', { split: 'aa', filters: '' }), ['a']);
});

test('astral filter characters are matched as whole code points', (t) => {
  t.deepEqual(textToWordSequence('a😀b😁c', { filters: '😀' }), ['a', 'b😁c']);
});

test('an empty split is refused, as Python refuses an empty separator', (t) => {
  t.throws(() => new WordSplitter({ split: '' }), { instanceOf: RangeError });
});
