import { endianness } from 'node:os';

export type PaddingSide = 'pre' | 'post';

export interface PadOptions {
  /** Row length; default: the longest sequence of the batch. */
  maxlen?: number;
  /** Where the fill goes: 'pre' (left, Keras' default) or 'post'. */
  padding?: PaddingSide;
  /** Which end of a too-long sequence is cut: 'pre' (keep the last maxlen, Keras' default) or 'post'. */
  truncating?: PaddingSide;
  /** Fill value (default 0). */
  value?: number;
}

interface Layout {
  maxlen: number;
  padLeft: boolean;
  cutLeft: boolean;
  value: number;
}

function side(option: PaddingSide | undefined, what: 'Padding' | 'Truncating'): boolean {
  if (option === undefined || option === 'pre') return true;
  if (option === 'post') return false;
  throw new RangeError(`${what} type "${String(option)}" not understood`);
}

function layout(sequences: readonly (readonly number[])[], options: PadOptions): Layout {
  let maxlen = options.maxlen;
  if (maxlen === undefined) {
    maxlen = 0;
    for (const seq of sequences) if (seq.length > maxlen) maxlen = seq.length;
  } else if (!(Number.isSafeInteger(maxlen) && maxlen >= 0)) {
    throw new RangeError(`maxlen must be a non-negative integer, got ${maxlen}`);
  }
  return {
    maxlen,
    padLeft: side(options.padding, 'Padding'),
    cutLeft: side(options.truncating, 'Truncating'),
    value: options.value ?? 0,
  };
}

/** Where a sequence of `length` items lands in its row: copy `count` items from `from` to column `to`. */
function place(length: number, { maxlen, padLeft, cutLeft }: Layout): { from: number; to: number; count: number } {
  const count = length < maxlen ? length : maxlen;
  return { from: cutLeft ? length - count : 0, to: padLeft ? maxlen - count : 0, count };
}

/**
 * Keras' pad_sequences: an n × maxlen matrix filled with `value`, each sequence cut to maxlen
 * (truncating 'pre' keeps its end) and placed at the right ('pre' padding) or left ('post').
 * Values are copied as given (Keras casts to int32). maxlen 0 gives empty rows (Keras raises
 * there for non-empty sequences with truncating 'pre', because s[-0:] is the whole list).
 */
export function padSequences(sequences: readonly (readonly number[])[], options: PadOptions = {}): number[][] {
  const l = layout(sequences, options);
  return sequences.map((seq) => {
    const row = new Array<number>(l.maxlen).fill(l.value);
    const { from, to, count } = place(seq.length, l);
    for (let k = 0; k < count; k++) row[to + k] = seq[from + k]!;
    return row;
  });
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * padSequences straight into one row-major int64 buffer of n × maxlen (ONNX `input_ids`),
 * without a BigInt per element: int32-range values are written as two 32-bit halves.
 * Throws RangeError for a value that is not an integer.
 */
export function padSequencesToInt64(sequences: readonly (readonly number[])[], options: PadOptions & { maxlen: number }): BigInt64Array {
  if (options.maxlen === undefined) throw new RangeError('padSequencesToInt64 needs maxlen');
  const l = layout(sequences, options);
  const out = new BigInt64Array(sequences.length * l.maxlen);
  if (l.value !== 0) out.fill(BigInt(l.value));
  const halves = LITTLE_ENDIAN ? new Int32Array(out.buffer, out.byteOffset, out.length * 2) : null;
  for (let r = 0; r < sequences.length; r++) {
    const seq = sequences[r]!;
    const { from, to, count } = place(seq.length, l);
    const base = r * l.maxlen + to;
    for (let k = 0; k < count; k++) {
      const v = seq[from + k]!;
      if (halves !== null && (v | 0) === v) {
        halves[2 * (base + k)] = v;
        halves[2 * (base + k) + 1] = v < 0 ? -1 : 0;
      } else {
        out[base + k] = BigInt(v);
      }
    }
  }
  return out;
}
