import test from 'ava';
import { Tokenizer } from '@huggingface/tokenizers';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../src/build-repository.js';
import { readJsonl } from '../src/dataset.js';
import { bertPreTokenize, buildWordPieceVocab, SPECIAL_TOKENS, wordPieceTokenizerJson } from '../src/encoder/wordpiece-tokenizer.js';

const corpus = ['The movie was great!', 'the movie was GREAT.', 'Playing, played, plays.', 'I play. We play!'];
// Whole words need 2 occurrences: the, movie, was, great, play. "playing" and "played" occur
// once, so they give the suffix pieces ##ing and ##ed (their stem "play" is a word).
const vocab = buildWordPieceVocab({ texts: corpus, maxVocabSize: 1000, minWordCount: 2, minSuffixCount: 1 });

function load(v: readonly string[]): Tokenizer {
  // Round-trip through JSON text, as the file is read from disk.
  return new Tokenizer(JSON.parse(JSON.stringify(wordPieceTokenizerJson(v))), {});
}

test('vocabulary layout: specials first, then characters, continuation characters, words, suffixes', (t) => {
  t.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  t.is(new Set(vocab).size, vocab.length, 'no duplicates');
  for (const ch of 'themovisgrapldynw!.,') {
    t.true(vocab.includes(ch), `character ${ch}`);
    t.true(vocab.includes(`##${ch}`), `continuation ##${ch}`);
  }
  for (const word of ['the', 'movie', 'was', 'great', 'play']) t.true(vocab.includes(word), word);
  for (const word of ['playing', 'played', 'plays', 'we']) t.false(vocab.includes(word), `${word} is not a whole word`);
  t.deepEqual(vocab.slice(-2).sort(), ['##ed', '##ing']);
});

test('@huggingface/tokenizers loads the tokenizer.json and encodes to the expected pieces', (t) => {
  const tokenizer = load(vocab);
  const encoding = tokenizer.encode('Thé MOVIE played well, plays! €');
  t.deepEqual(encoding.tokens, ['[CLS]', 'the', 'movie', 'play', '##ed', 'w', '##e', '##l', '##l', ',', 'play', '##s', '!', '[UNK]', '[SEP]']);
  t.deepEqual(
    encoding.ids,
    encoding.tokens.map((token: string) => vocab.indexOf(token)),
  );
  t.is(encoding.ids[0], 2, '[CLS] is id 2');
  t.is(encoding.ids[encoding.ids.length - 1], 3, '[SEP] is id 3');
  t.is(tokenizer.token_to_id('[PAD]'), 0);
  t.is(tokenizer.token_to_id('[UNK]'), 1);
  t.deepEqual(tokenizer.encode('the movie', { add_special_tokens: false }).tokens, ['the', 'movie']);
});

test('the build is deterministic and respects the size budget', (t) => {
  t.deepEqual(buildWordPieceVocab({ texts: corpus, maxVocabSize: 1000, minWordCount: 2, minSuffixCount: 1 }), vocab);
  const small = buildWordPieceVocab({ texts: corpus, maxVocabSize: 50, minWordCount: 2, minSuffixCount: 1 });
  t.true(small.length <= 50);
  t.throws(() => buildWordPieceVocab({ texts: corpus, maxVocabSize: 20 }), { message: /cannot hold/ });
});

test('the pre-tokenizer used for counting splits as the library does', (t) => {
  const tokenizer = load(vocab);
  for (const text of ['Héllo,   WORLD!! x86_64 C++ (ok)', "don't stop", '  tabs\tand\nnewlines  ']) {
    const words = bertPreTokenize(text);
    // Re-join WordPiece pieces into words: every piece that is not "##…" starts a new word.
    const pieces = tokenizer.encode(text, { add_special_tokens: false }).tokens;
    const joined: string[] = [];
    for (const p of pieces) {
      if (p.startsWith('##')) joined[joined.length - 1] += p.slice(2);
      else joined.push(p);
    }
    t.is(joined.length, words.length, text);
    words.forEach((w, i) => {
      if (joined[i] !== '[UNK]') t.is(joined[i], w, text);
    });
  }
  t.deepEqual(bertPreTokenize('Héllo, WORLD!'), ['hello', ',', 'world', '!']);
});

test('on the project data set no test text becomes [UNK]', async (t) => {
  const train = await readJsonl(join(DEFAULT_DATA_DIR, 'train.jsonl'));
  const testSplit = await readJsonl(join(DEFAULT_DATA_DIR, 'test.jsonl'));
  const big = buildWordPieceVocab({ texts: train.texts, maxVocabSize: 8192 });
  t.deepEqual(big.slice(0, SPECIAL_TOKENS.length), [...SPECIAL_TOKENS]);
  const tokenizer = load(big);
  let pieces = 0;
  let words = 0;
  for (const text of testSplit.texts) {
    const tokens = tokenizer.encode(text).tokens;
    t.false(tokens.includes('[UNK]'), text);
    pieces += tokens.length - 2;
    words += bertPreTokenize(text).length;
  }
  // Frequent words are whole tokens: far fewer pieces than characters.
  t.true(pieces < words * 1.5, `${pieces} pieces for ${words} words`);
});
