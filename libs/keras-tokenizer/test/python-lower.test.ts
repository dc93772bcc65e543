import test from 'ava';
import { pythonLower, PYTHON_UNICODE_VERSION, textToWordSequence } from '../src/index.js';

// Expected values are Python 3.11's str.lower(), the function Keras lowercases with.

test('İ lowercases to i + COMBINING DOT ABOVE, so İNTERFACE is not interface', (t) => {
  t.is(pythonLower('İNTERFACE'), 'i\u0307nterface');
  t.not(pythonLower('İNTERFACE'), 'interface');
  t.deepEqual(textToWordSequence('İNTERFACE interface'), ['i\u0307nterface', 'interface']);
});

test('KELVIN SIGN lowercases to ASCII k', (t) => {
  t.is(pythonLower('\u212ADE'), 'kde');
});

test('Greek capital sigma becomes final sigma by context', (t) => {
  t.is(pythonLower('ΟΔΟΣ'), 'οδος');
  t.is(pythonLower('Σ'), 'σ');
  t.is(pythonLower('ΣΑ'), 'σα');
  t.is(pythonLower('ΣΣ'), 'σς');
  t.is(pythonLower('ΑΣ1'), 'ας1');
  // apostrophe and full stop are case-ignorable: skipped when looking for a following letter
  t.is(pythonLower("ΑΣ'"), "ας'");
  t.is(pythonLower("ΑΣ'Α"), "ασ'α");
  t.is(pythonLower('ΑΣ.Α'), 'ασ.α');
});

test('ẞ lowercases to ß while STRASSE stays strasse', (t) => {
  t.is(pythonLower('ẞ'), 'ß');
  t.is(pythonLower('STRASSE'), 'strasse');
  t.is(pythonLower('STRAẞE'), 'straße');
});

test('fullwidth letters and the fi ligature are not folded to ASCII', (t) => {
  t.is(pythonLower('ＡＢＣ'), 'ａｂｃ');
  t.is(pythonLower('ﬁ'), 'ﬁ');
  t.is(pythonLower('ﬁX'), 'ﬁx');
});

test('no Unicode normalization: combining café differs from precomposed café', (t) => {
  const combining = 'CAFE\u0301';
  const precomposed = 'CAF\u00c9';
  t.is(pythonLower(combining), 'cafe\u0301');
  t.is(pythonLower(precomposed), 'caf\u00e9');
  t.not(pythonLower(combining), pythonLower(precomposed));
});

test('titlecase digraphs, Greek with ypogegrammeni and astral letters', (t) => {
  t.is(pythonLower('Ǆ ǅ'), 'ǆ ǆ');
  t.is(pythonLower('ᾈ'), '\u1f80');
  t.is(pythonLower('\u{10400}X'), '\u{10428}x');
});

test("letters newer than Python's Unicode stay as they are, whatever Node's ICU does", (t) => {
  t.is(PYTHON_UNICODE_VERSION, '14.0.0');
  // Unicode 16 added lowercase partners for these; Python 3.11 (Unicode 14) leaves them alone.
  for (const ch of ['\ua7cb', '\u1c89', '\u{16ea0}', '\u{10d50}']) t.is(pythonLower(ch), ch);
});

test('unchanged text comes back as is, lone surrogates pass through', (t) => {
  t.is(pythonLower('already lower'), 'already lower');
  t.is(pythonLower('MIXED ascii'), 'mixed ascii');
  t.is(pythonLower('\ud800A\udc00'), '\ud800a\udc00');
});
