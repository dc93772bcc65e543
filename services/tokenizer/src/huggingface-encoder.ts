import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerFileError, type TextTokenizer } from './encoder.js';

/** Stands for "the text" when reading which special tokens the post-processor puts around it. */
const CONTENT_PLACEHOLDER = '\u0000maas-content\u0000';

/** Texts whose encoding with specials must equal prefix + content + suffix (checked at load). */
const PROBE_TEXTS = ['', 'Hello, world! The quick brown fox jumps over the lazy dog 123.'];

/**
 * Special tokens the post-processor adds around a single text, read by running the library's own
 * post-processor over one placeholder token: whatever lands before it is the prefix ([CLS], <s>), whatever
 * after it the suffix ([SEP], </s>). Works for TemplateProcessing, BertProcessing, RobertaProcessing,
 * ByteLevel and Sequence alike, without re-implementing any of them.
 */
function specialsAround(tokenizer: Tokenizer): { prefixIds: number[]; suffixIds: number[] } {
  if (!tokenizer.post_processor) return { prefixIds: [], suffixIds: [] };
  const { tokens } = tokenizer.post_processor.post_process([CONTENT_PLACEHOLDER], null, true);
  const at = tokens.indexOf(CONTENT_PLACEHOLDER);
  if (at < 0 || tokens.lastIndexOf(CONTENT_PLACEHOLDER) !== at) {
    throw new TokenizerFileError('the post-processor does not place a single text once; only single-sequence templates are supported');
  }
  const toId = (token: string) => {
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new TokenizerFileError(`special token ${JSON.stringify(token)} of the post-processor is not in the vocabulary`);
    return id;
  };
  return { prefixIds: tokens.slice(0, at).map(toId), suffixIds: tokens.slice(at + 1).map(toId) };
}

/**
 * A Hugging Face tokenizer.json (WordPiece, BPE, Unigram) through @huggingface/tokenizers. The library has
 * no padding, truncation or batching; encodeBatch does those, keeping the specials found here.
 */
export function huggingfaceTokenizer(fileText: string): TextTokenizer {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fileText) as Record<string, unknown>;
  } catch (error) {
    throw new TokenizerFileError(`tokenizer.json is not valid JSON: ${(error as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json) || !json.model) {
    throw new TokenizerFileError('tokenizer.json has no "model" section');
  }
  // The Rust library always writes these keys; hand-written files may leave the empty ones out.
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) json[key] ??= null;
  json.added_tokens ??= [];

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, {});
  } catch (error) {
    throw new TokenizerFileError(`tokenizer.json cannot be loaded: ${(error as Error).message}`);
  }
  const { prefixIds, suffixIds } = specialsAround(tokenizer);
  const contentIds = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false }).ids;

  for (const probe of PROBE_TEXTS) {
    const expected: number[] = tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const assembled = [...prefixIds, ...contentIds(probe), ...suffixIds];
    if (expected.length !== assembled.length || expected.some((id, index) => id !== assembled[index])) {
      throw new TokenizerFileError('the post-processor does more than add special tokens around the text; it is not supported');
    }
  }
  return { kind: 'huggingface', prefixIds, suffixIds, contentIds };
}
