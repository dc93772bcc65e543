/**
 * Quick measurement (not a test): texts/s of encodeBatch for one 256-text batch, Keras and WordPiece.
 * Run after `npx tsc -b services/tokenizer`: `npx tsx services/tokenizer/scripts/encode-throughput.ts`.
 *
 * The corpus is synthetic but shaped like review text (30–60 words with punctuation, Zipf-like word
 * frequencies); the Keras tokenizer is fitted on it and the WordPiece vocabulary holds the most frequent
 * words plus every character (alone and as "##"), so rarer words split into pieces as with a real BERT vocab.
 */
import { KerasTokenizer } from '@maas/keras-tokenizer';
import { encodeBatch, type EncodingLayout, type TextTokenizer } from '../src/encoder.js';
import { huggingfaceTokenizer } from '../src/huggingface-encoder.js';
import { kerasTokenizer } from '../src/keras-encoder.js';

let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vo', 'qui', 'dra', 'pen', 'tor', 'ing', 'ed', 'ly', 'er'];
const words = Array.from({ length: 5000 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => syllables[Math.floor(random() * syllables.length)]).join(''));
const common = 'the a movie was is and not very good bad it this film plot actors great terrible boring fun'.split(' ');
const pick = () => (random() < 0.4 ? common[Math.floor(random() * common.length)]! : words[Math.floor(words.length * random() ** 2)]!);
function sentence(): string {
  const length = 30 + Math.floor(random() * 31);
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(i === 0 ? pick().replace(/^./, (c) => c.toUpperCase()) : pick());
  return `${parts.join(' ').replace(/ (\S+) /g, (match, word, offset) => (offset % 7 === 0 ? ` ${word}, ` : match))}!`;
}
const corpus = Array.from({ length: 5000 }, sentence);
const batch = corpus.slice(0, 256);

const keras = new KerasTokenizer({ numWords: 10_000 });
keras.fitOnTexts(corpus);

const counts = new Map<string, number>();
for (const text of corpus) for (const word of text.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
const chars = [...new Set([...counts.keys()].join(''))].sort();
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...chars, ...chars.map((c) => `##${c}`)];
vocab.push(...[...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3000).map(([word]) => word).filter((word) => !vocab.includes(word)));
vocab.push(...syllables.map((s) => `##${s}`).filter((piece) => !vocab.includes(piece)));
const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const wordpieceJson = {
  version: '1.0',
  added_tokens: vocab.slice(0, 5).map((token, id) => special(id, token)),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((token, id) => [token, id])) },
};

function measure(name: string, tokenizer: TextTokenizer, layout: EncodingLayout): void {
  for (let i = 0; i < 20; i++) encodeBatch({ tokenizer, layout, texts: batch });
  let batches = 0;
  const started = process.hrtime.bigint();
  let seconds = 0;
  while (seconds < 3) {
    encodeBatch({ tokenizer, layout, texts: batch });
    batches++;
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  }
  const tokens = batch.reduce((sum, text) => sum + tokenizer.contentIds(text).length, 0) / batch.length;
  console.log(
    `${name}: ${Math.round((batches * batch.length) / seconds)} texts/s (${((seconds / batches) * 1000).toFixed(2)} ms per 256-text batch, ~${tokens.toFixed(0)} tokens/text, max_length ${layout.maxLength})`,
  );
}

measure('keras (INT64 input_ids, pre/pre)', kerasTokenizer(keras.toJson()), {
  maxLength: 100,
  paddingSide: 'pre',
  truncationSide: 'pre',
  padId: 0,
  inputs: [{ name: 'input_ids', datatype: 'INT64', role: 'input_ids' }],
});
measure('wordpiece (INT64 input_ids + attention_mask, post/post)', huggingfaceTokenizer(JSON.stringify(wordpieceJson)), {
  maxLength: 128,
  paddingSide: 'post',
  truncationSide: 'post',
  padId: 0,
  inputs: [
    { name: 'input_ids', datatype: 'INT64', role: 'input_ids' },
    { name: 'attention_mask', datatype: 'INT64', role: 'attention_mask' },
  ],
});
