// Its own file, so its own process: ONNX Runtime's logger is process-wide (see below).
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { SessionPool } from '../src/session-pool.js';
import { capturingLogger, session, writeModel } from './helpers/session-fixtures.js';
import { tinyClassifier } from './helpers/tiny-onnx.js';

test.before(async () => {
  // A provider that cannot load makes ONNX Runtime print a red "[E:onnxruntime...] Failed to load library" line
  // to stderr, in a passing run. It comes from ORT's process-wide logger, which a session's logSeverityLevel
  // does not reach and which the first session of the process configures: one session here, at `fatal`, before
  // the pool's worker creates its own. The failure this test expects is still checked (the pool's warnings);
  // no other test shares this process, so no unexpected ORT error is hidden.
  ort.env.logLevel = 'fatal';
  await (await ort.InferenceSession.create(writeModel(tinyClassifier()))).release();
});

test('an unavailable execution provider falls back to CPU with a warning', async (t) => {
  const { logger, lines } = capturingLogger();
  const pool = await SessionPool.create({ session: session(writeModel(tinyClassifier()), { executionProviders: ['tensorrt'] }), size: 1, logger });
  try {
    t.is(pool.provider, 'cpu');
    t.true(lines.some((line) => line.level === 40 && /execution provider 'tensorrt' failed/.test(line.msg) && /falling back to 'cpu'/.test(line.msg)));
    t.true(lines.some((line) => line.level === 40 && /'tensorrt' is unavailable; running on 'cpu'/.test(line.msg)));
  } finally {
    await pool.close();
  }
});
