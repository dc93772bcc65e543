/**
 * What one process reaches with no transport at all, the ceilings issue 7 measures the mesh against. Run as its
 * own process (so nothing of the bench's heap or event loop weighs on it), it prints one JSON line:
 *
 * - `ort <package dir> <ms> <batch>...`: raw onnxruntime-node `session.run` of the package's model (default
 *   session options) on inputs tokenized up front from the bench texts, back to back for <ms> per batch size;
 *   rows per second for each batch size.
 * - `tokenize <package dir> <ms> <texts per call>`: the package's tokenizer inline (the naive peer's encoder:
 *   @huggingface/tokenizers or @maas/keras-tokenizer, then the padded int64 tensors), back to back on the same
 *   texts the tokenizer benchmark sends; texts per second.
 */
import { performance } from 'node:perf_hooks';
import { benchTexts, textsAt } from './bench-texts.js';
import { loadModel } from './naive-peer-server.js';

const ROOT_DIR = `${__dirname}/../..`;

/** Runs `step` back to back for `ms`; calls per second. */
async function rateOf(ms: number, step: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  let calls = 0;
  let now = start;
  while (now - start < ms) {
    await step();
    calls += 1;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

async function main(): Promise<void> {
  const [mode, dir, msText, ...sizes] = process.argv.slice(2);
  const ms = Number(msText);
  const model = await loadModel(dir!);
  const texts = benchTexts(ROOT_DIR);
  const results: Array<{ batch: number; perSecond: number }> = [];
  for (const batch of sizes.map(Number)) {
    if (mode === 'ort') {
      const feeds = model.encode(textsAt(texts, 0, batch));
      await model.session.run(feeds); // first run allocates
      results.push({ batch, perSecond: batch * (await rateOf(ms, () => model.session.run(feeds))) });
    } else if (mode === 'tokenize') {
      const batches = Array.from({ length: 8 }, (_, index) => textsAt(texts, index * Math.floor(texts.length / 8), batch));
      let next = 0;
      const step = () => model.encode(batches[next++ % batches.length]!);
      await rateOf(Math.min(ms, 500), step); // warm-up
      results.push({ batch, perSecond: batch * (await rateOf(ms, step)) });
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  }
  console.log(JSON.stringify(results));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`in-process limits: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
