// What the session-pool tests share: a logger they can read, a model file on disk, session options.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { SessionWorkerData } from '../../src/session-protocol.js';

/** A logger whose lines the test can read. */
export function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export function writeModel(bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-pool-'));
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, bytes);
  return file;
}

export const session = (modelPath: string, extra: Partial<SessionWorkerData> = {}): SessionWorkerData => ({
  modelPath,
  executionProviders: ['cpu'],
  intraOpThreads: 1,
  interOpThreads: 1,
  threadSpinning: false,
  graphOptimizationLevel: 'all',
  ...extra,
});
