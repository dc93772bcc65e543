/** Messages between the tokenizer's main thread and its encode workers (see encode-pool.ts). Types only. */
import type { EncodingLayout } from './encoder.js';

/** A tensor of an encoded batch: a region of the batch's one buffer. */
export interface TensorRegion {
  name: string;
  datatype: string;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

export type MainToEncodeWorker =
  /** Build the tokenizer of a version from its file's text, under `handle`. */
  | { type: 'load'; handle: number; kind: string; fileText: string; layout: EncodingLayout }
  /** Forget a tokenizer. */
  | { type: 'unload'; handle: number }
  /** Encode texts with a loaded tokenizer (in narrow integer datatypes when asked: see encodeBatch). */
  | { type: 'encode'; id: number; handle: number; texts: string[]; narrowIntegers: boolean };

export type EncodeWorkerToMain =
  /**
   * An encoded batch: every tensor is a region of `buffer` (transferred, not copied), plus the per-text counts
   * and the time the encoding took inside the worker.
   */
  | { type: 'encoded'; id: number; buffer: ArrayBuffer; tensors: TensorRegion[]; tokenCounts: number[]; truncated: boolean[]; seconds: number }
  /** The encode failed (a tokenizer that did not load, or an error inside the library). */
  | { type: 'failed'; id: number; message: string };
