import test from 'ava';
import { pyJsonDumps, pyJsonLoads, pyJsonString, PyJsonParseError } from '../src/index.js';

// Expected strings are what Python's json.dumps writes with its defaults.

test('ensure_ascii: lowercase \\uXXXX, astral as surrogate pair, DEL and control characters escaped', (t) => {
  t.is(pyJsonString('bokmål'), String.raw`"bokm\u00e5l"`);
  t.is(pyJsonString('😀'), String.raw`"\ud83d\ude00"`);
  t.is(pyJsonString('\x7f\x00\x1f\u2028'), String.raw`"\u007f\u0000\u001f\u2028"`);
  t.is(pyJsonString('"\\/\n\r\t\b\f'), String.raw`"\"\\/\n\r\t\b\f"`);
  t.is(pyJsonString('plain ascii ~'), '"plain ascii ~"');
});

test('dumps uses ", " and ": " separators and writes int keys as strings', (t) => {
  t.is(
    pyJsonDumps(
      new Map<number, string>([
        [1, 'a'],
        [10, 'b'],
      ]),
    ),
    '{"1": "a", "10": "b"}',
  );
  t.is(pyJsonDumps([null, true, false, 3, 'x']), '[null, true, false, 3, "x"]');
  t.is(pyJsonDumps(new Map()), '{}');
  t.throws(() => pyJsonDumps(0.5), { instanceOf: RangeError });
});

test('loads keeps key order (integer-like keys too) and Python duplicate-key semantics', (t) => {
  const parsed = pyJsonLoads('{"64": 1, "1": 2, "x86": 3, "64": 4}');
  t.true(parsed instanceof Map);
  t.deepEqual(
    [...(parsed as Map<string, unknown>)],
    [
      ['64', 4],
      ['1', 2],
      ['x86', 3],
    ],
  );
});

test('loads decodes escapes and accepts NaN and Infinity like Python', (t) => {
  t.is(pyJsonLoads(String.raw`"bokm\u00e5l \ud83d\ude00 \"q\" \\ \/"`), 'bokmål 😀 "q" \\ /');
  t.deepEqual(pyJsonLoads(' [1, -2.5e1, NaN, -Infinity, null] '), [1, -25, NaN, -Infinity, null]);
});

test('loads rejects what Python rejects', (t) => {
  for (const bad of ['{"a": 1,}', '[1 2]', '"tab\there"', '01', '{"a" 1}', '"\\x41"', '1 2', '']) {
    t.throws(() => pyJsonLoads(bad), { instanceOf: PyJsonParseError }, bad);
  }
});
