import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KerasTokenizer } from '../src/index.js';

const TINY_DOCS = ['The cat sat on the mat.', 'The dog sat!', 'A cat, a DOG... and a bird'];
const TINY_PROBE = ['The cat and the fish sat', 'bird bird', ''];

function tiny(oovToken: string | null = null): KerasTokenizer {
  const tokenizer = new KerasTokenizer({ numWords: 4, oovToken });
  tokenizer.fitOnTexts(TINY_DOCS);
  return tokenizer;
}

test('tiny example: word_counts in first-seen order', (t) => {
  t.deepEqual(
    [...tiny().wordCounts],
    [
      ['the', 3],
      ['cat', 2],
      ['sat', 2],
      ['on', 1],
      ['mat', 1],
      ['dog', 2],
      ['a', 3],
      ['and', 1],
      ['bird', 1],
    ],
  );
});

test('tiny example: word_index by count, ties in first-seen order, from 1, num_words does not shrink it', (t) => {
  const tokenizer = tiny();
  t.deepEqual(
    [...tokenizer.wordIndex],
    [
      ['the', 1],
      ['a', 2],
      ['cat', 3],
      ['sat', 4],
      ['dog', 5],
      ['on', 6],
      ['mat', 7],
      ['and', 8],
      ['bird', 9],
    ],
  );
  t.deepEqual([...tokenizer.indexWord].slice(0, 3), [
    [1, 'the'],
    [2, 'a'],
    [3, 'cat'],
  ]);
  t.is(tokenizer.numWords, 4);
  t.is(tokenizer.documentCount, 3);
  t.deepEqual(
    [...tokenizer.wordDocs],
    [
      ['the', 2],
      ['cat', 2],
      ['sat', 2],
      ['on', 1],
      ['mat', 1],
      ['dog', 2],
      ['a', 1],
      ['and', 1],
      ['bird', 1],
    ],
  );
});

test('tiny example without oov: cut and unknown words are dropped', (t) => {
  t.deepEqual(tiny().textsToSequences(TINY_PROBE), [[1, 3, 1], [], []]);
});

test('tiny example with oov: oov forced to 1, cut and unknown words become 1', (t) => {
  const tokenizer = tiny('<OOV>');
  t.deepEqual([...tokenizer.wordIndex].slice(0, 4), [
    ['<OOV>', 1],
    ['the', 2],
    ['a', 3],
    ['cat', 4],
  ]);
  t.is(tokenizer.wordIndex.get('bird'), 10);
  t.deepEqual(tokenizer.textsToSequences(TINY_PROBE), [[2, 1, 1, 2, 1, 1], [1, 1], []]);
  t.deepEqual(tokenizer.textToSequence('THE CAT!'), [2, 1]);
});

test('without num_words every fitted word is kept', (t) => {
  const tokenizer = new KerasTokenizer();
  tokenizer.fitOnTexts(TINY_DOCS);
  t.is(tokenizer.numWords, null);
  t.deepEqual(tokenizer.textToSequence('bird and dog, on a mat'), [9, 8, 5, 6, 2, 7]);
});

test('fitOnTexts accumulates over calls and rebuilds the index', (t) => {
  const tokenizer = new KerasTokenizer();
  tokenizer.fitOnTexts(['b a']);
  t.deepEqual(
    [...tokenizer.wordIndex],
    [
      ['b', 1],
      ['a', 2],
    ],
  );
  tokenizer.fitOnTexts(['a c']);
  t.deepEqual(
    [...tokenizer.wordIndex],
    [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ],
  );
  t.is(tokenizer.documentCount, 2);
  // Keras updates index_docs in place, so keys keep the order they were first written in.
  t.deepEqual(
    [...tokenizer.indexDocs],
    [
      [1, 2],
      [2, 1],
      [3, 1],
    ],
  );
});

test('lowercasing traps give distinct ids, CR and NBSP stay inside words', (t) => {
  const tokenizer = new KerasTokenizer();
  tokenizer.fitOnTexts(['İNTERFACE interface \u212ADE kde ΟΔΟΣ cr\rhere nbsp\u00a0here GNOME’s “quoted” — dash']);
  const index = tokenizer.wordIndex;
  t.not(index.get('i\u0307nterface'), index.get('interface'));
  // KELVIN SIGN + DE and ASCII kde are one word, seen twice: the most frequent.
  t.is(index.get('kde'), 1);
  t.is(tokenizer.wordCounts.get('kde'), 2);
  t.is(index.size, 10);
  t.true(index.has('οδος'));
  t.true(index.has('cr\rhere'));
  t.true(index.has('nbsp\u00a0here'));
  t.deepEqual(tokenizer.textToSequence('GNOME’s — DASH'), [index.get('gnome’s'), index.get('—'), index.get('dash')]);
});

test('an oov token that is also a word keeps its first place but takes the later index (dict(zip) semantics)', (t) => {
  const tokenizer = new KerasTokenizer({ oovToken: 'oov' });
  tokenizer.fitOnTexts(['x x oov']);
  t.deepEqual(
    [...tokenizer.wordIndex],
    [
      ['oov', 3],
      ['x', 2],
    ],
  );
  t.deepEqual(
    [...tokenizer.indexWord],
    [
      [3, 'oov'],
      [2, 'x'],
    ],
  );
  t.deepEqual(tokenizer.textToSequence('x unknown'), [2, 3]);
});

test('char level: every character is a token, punctuation and spaces included', (t) => {
  const tokenizer = new KerasTokenizer({ charLevel: true });
  tokenizer.fitOnTexts(['Aab!', 'b 😀']);
  t.deepEqual(
    [...tokenizer.wordIndex],
    [
      ['a', 1],
      ['b', 2],
      ['!', 3],
      [' ', 4],
      ['😀', 5],
    ],
  );
  t.deepEqual(tokenizer.textToSequence('BA?😀'), [2, 1, 5]);
  t.deepEqual(tokenizer.sequencesToTexts([[2, 1, 5]]), ['ba😀']);
});

test('sequencesToTexts maps ids back, with oov for cut and unknown ids', (t) => {
  t.deepEqual(tiny().sequencesToTexts([[1, 3, 4, 99]]), ['the cat']);
  t.deepEqual(tiny('<OOV>').sequencesToTexts([[2, 4, 5, 99]]), ['the <OOV> <OOV> <OOV>']);
});

test('an oov token the tokenizer never indexed is an error, not a silent drop', (t) => {
  const tokenizer = new KerasTokenizer({ oovToken: '<OOV>' });
  t.throws(() => tokenizer.textToSequence('anything'), { message: /not in wordIndex/ });
});

// The filters string in JSON: backslash-escaped quote and backslash, \t and \n as escapes.
const FILTERS_JSON = String.raw`"!\"#$%&()*+,-./:;<=>?@[\\]^_${'`'}{|}~\t\n"`;

test('toJson of the tiny example is byte for byte what Keras writes', (t) => {
  const expected =
    String.raw`{"class_name": "Tokenizer", "config": {"num_words": 4, "filters": ` +
    FILTERS_JSON +
    String.raw`, "lower": true, "split": " ", "char_level": false, "oov_token": null, "document_count": 3, ` +
    String.raw`"word_counts": "{\"the\": 3, \"cat\": 2, \"sat\": 2, \"on\": 1, \"mat\": 1, \"dog\": 2, \"a\": 3, \"and\": 1, \"bird\": 1}", ` +
    String.raw`"word_docs": "{\"the\": 2, \"cat\": 2, \"sat\": 2, \"on\": 1, \"mat\": 1, \"dog\": 2, \"a\": 1, \"and\": 1, \"bird\": 1}", ` +
    String.raw`"index_docs": "{\"1\": 2, \"3\": 2, \"4\": 2, \"6\": 1, \"7\": 1, \"5\": 2, \"2\": 1, \"8\": 1, \"9\": 1}", ` +
    String.raw`"index_word": "{\"1\": \"the\", \"2\": \"a\", \"3\": \"cat\", \"4\": \"sat\", \"5\": \"dog\", \"6\": \"on\", \"7\": \"mat\", \"8\": \"and\", \"9\": \"bird\"}", ` +
    String.raw`"word_index": "{\"the\": 1, \"a\": 2, \"cat\": 3, \"sat\": 4, \"dog\": 5, \"on\": 6, \"mat\": 7, \"and\": 8, \"bird\": 9}"}}`;
  t.is(tiny().toJson(), expected);
});

test('toJson escapes non-ASCII twice, as ensure_ascii json inside json does', (t) => {
  const tokenizer = new KerasTokenizer({ oovToken: 'ø' });
  tokenizer.fitOnTexts(['bokmål 😀 del\x7f']);
  const json = tokenizer.toJson();
  t.regex(json, /^[\x20-\x7e]*$/);
  t.true(json.includes(String.raw`"oov_token": "\u00f8"`));
  t.true(json.includes(String.raw`"word_counts": "{\"bokm\\u00e5l\": 1, \"\\ud83d\\ude00\": 1, \"del\\u007f\": 1}"`));
});

test('fromJson(toJson()) round trip: same bytes, same ids, num_words kept', (t) => {
  for (const original of [tiny(), tiny('<OOV>')]) {
    const copy = KerasTokenizer.fromJson(original.toJson());
    t.is(copy.toJson(), original.toJson());
    t.is(copy.numWords, 4);
    t.is(copy.oovToken, original.oovToken);
    t.is(copy.documentCount, 3);
    t.deepEqual(copy.textsToSequences(TINY_PROBE), original.textsToSequences(TINY_PROBE));
  }
});

test('fromJson keeps integer-like words in their place (no JSON.parse key reordering)', (t) => {
  const original = new KerasTokenizer();
  original.fitOnTexts(['x86_64 word 007 10 2']);
  t.deepEqual([...original.wordIndex.keys()], ['x86', '64', 'word', '007', '10', '2']);
  const copy = KerasTokenizer.fromJson(original.toJson());
  t.deepEqual([...copy.wordIndex], [...original.wordIndex]);
  t.deepEqual([...copy.wordCounts.keys()], [...original.wordCounts.keys()]);
  t.is(copy.toJson(), original.toJson());
});

// Hand-written in Keras' format from these texts, with num_words=6 and oov_token "<OOV>":
//   "Bokmål er fint, bokmål er lett." / "Café au lait — très bon!" / "ΟΔΟΣ og straße; CAFÉ"
// word_docs and index_docs are in an arbitrary (hash-like) order, as Keras writes them.
const FIXTURE = readFileSync(join(__dirname, 'fixtures', 'keras-tokenizer-bokmal.json'), 'utf8');

test('Keras-format fixture with non-ASCII words, oov and num_words loads and gives the expected ids', (t) => {
  const tokenizer = KerasTokenizer.fromJson(FIXTURE);
  t.is(tokenizer.numWords, 6);
  t.is(tokenizer.oovToken, '<OOV>');
  t.is(tokenizer.documentCount, 3);
  t.is(tokenizer.wordIndex.get('bokmål'), 2);
  t.is(tokenizer.wordIndex.get('café'), 4);
  t.is(tokenizer.wordIndex.get('οδος'), 12);
  t.is(tokenizer.wordIndex.get('—'), 9);
  t.is(tokenizer.indexWord.get(14), 'straße');
  t.is(tokenizer.indexDocs.get(4), 2);
  t.deepEqual(tokenizer.textsToSequences(['Bokmål er lett, CAFÉ er fint!', 'ΟΔΟΣ ukjent', '', 'très bon og straße']), [
    [2, 3, 1, 4, 3, 5],
    [1, 1],
    [],
    [1, 1, 1, 1],
  ]);
});

test('the fixture written back is byte-identical, including its word_docs order', (t) => {
  t.is(KerasTokenizer.fromJson(FIXTURE).toJson(), FIXTURE);
});

test('fitting the fixture texts yields the same vocabulary as the file', (t) => {
  const fitted = new KerasTokenizer({ numWords: 6, oovToken: '<OOV>' });
  fitted.fitOnTexts(['Bokmål er fint, bokmål er lett.', 'Café au lait — très bon!', 'ΟΔΟΣ og straße; CAFÉ']);
  const loaded = KerasTokenizer.fromJson(FIXTURE);
  t.deepEqual([...fitted.wordIndex], [...loaded.wordIndex]);
  t.deepEqual([...fitted.wordCounts], [...loaded.wordCounts]);
  const byWord = (m: ReadonlyMap<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  t.deepEqual(byWord(fitted.wordDocs), byWord(loaded.wordDocs));
});

test('fromJson rejects malformed input with a reason', (t) => {
  t.throws(() => KerasTokenizer.fromJson('{"config": '), { message: /position/ });
  t.throws(() => KerasTokenizer.fromJson('{"class_name": "Tokenizer"}'), { message: /config/ });
  const json = tiny().toJson();
  t.throws(() => KerasTokenizer.fromJson(json.replace('"word_index": "{', '"word_index": "[')), { message: /word_index/ });
  t.throws(() => KerasTokenizer.fromJson(json.replace('"lower": true', '"lower": "yes"')), { message: /lower/ });
  t.throws(() => KerasTokenizer.fromJson(json.replace('"num_words": 4', '"num_words": 4, "analyzer": null')), {
    message: /unrecognized config key "analyzer"/,
  });
  t.throws(() => KerasTokenizer.fromJson(json.replace(String.raw`{\"1\": \"the\"`, String.raw`{\"one\": \"the\"`)), {
    message: /index_word/,
  });
});

test('constructor validates numWords', (t) => {
  t.throws(() => new KerasTokenizer({ numWords: -1 }), { instanceOf: RangeError });
  t.throws(() => new KerasTokenizer({ numWords: 1.5 }), { instanceOf: RangeError });
});
