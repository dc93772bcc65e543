import { CASED_STOP_RANGES, CASE_IGNORABLE_RANGES, LOWER_RUNS } from './python-lower-data.js';

// Keras lowercases with Python's str.lower(). JS toLowerCase() agrees on the classic traps
// (İ, Kelvin sign, final sigma, ẞ) but follows the Unicode version of Node's ICU, which is newer
// than Python 3.11's and lowercases letters Python leaves alone (e.g. U+A7CB, U+1C89, Garay).
// So non-ASCII text is lowercased from tables taken from Python itself.

/** Lowercase target of each BMP code point; 0 means "maps to itself". No BMP letter lowercases to astral. */
const BMP_LOWER = new Uint16Array(0x10000);
const ASTRAL_LOWER = new Map<number, number>();
for (let r = 0; r < LOWER_RUNS.length; r += 4) {
  const start = LOWER_RUNS[r]!;
  const count = LOWER_RUNS[r + 1]!;
  const step = LOWER_RUNS[r + 2]!;
  const delta = LOWER_RUNS[r + 3]!;
  for (let k = 0; k < count; k++) {
    const cp = start + k * step;
    if (cp < 0x10000) BMP_LOWER[cp] = cp + delta;
    else ASTRAL_LOWER.set(cp, cp + delta);
  }
}

const CAPITAL_SIGMA = 0x3a3;
const CAPITAL_I_WITH_DOT = 0x130;
/** str.lower() of U+0130 is two code points: i + COMBINING DOT ABOVE. */
const LOWER_I_WITH_DOT = 'i\u0307';

function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]!) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

function codePointBefore(text: string, end: number): number {
  const low = text.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return ((high - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  }
  return low;
}

/**
 * CPython's handle_capital_sigma(): Σ at `index` becomes ς when preceded by a cased letter and
 * not followed by one, case-ignorable characters skipped on both sides.
 */
function isFinalSigma(text: string, index: number): boolean {
  let j = index;
  let precededByCased = false;
  while (j > 0) {
    const cp = codePointBefore(text, j);
    j -= cp > 0xffff ? 2 : 1;
    if (!inRanges(CASE_IGNORABLE_RANGES, cp)) {
      precededByCased = inRanges(CASED_STOP_RANGES, cp);
      break;
    }
  }
  if (!precededByCased) return false;
  let k = index + 1;
  while (k < text.length) {
    const cp = text.codePointAt(k)!;
    k += cp > 0xffff ? 2 : 1;
    if (!inRanges(CASE_IGNORABLE_RANGES, cp)) return !inRanges(CASED_STOP_RANGES, cp);
  }
  return true;
}

function lowerSlow(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let mapped: string | undefined;
    let width = 1;
    if (c < 0x80) {
      if (c >= 0x41 && c <= 0x5a) mapped = String.fromCharCode(c + 32);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        width = 2;
        const to = ASTRAL_LOWER.get(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
        if (to !== undefined) mapped = String.fromCodePoint(to);
      }
    } else if (c === CAPITAL_SIGMA) {
      mapped = isFinalSigma(text, i) ? '\u03c2' : '\u03c3';
    } else if (c === CAPITAL_I_WITH_DOT) {
      mapped = LOWER_I_WITH_DOT;
    } else {
      const to = BMP_LOWER[c]!;
      if (to !== 0) mapped = String.fromCharCode(to);
    }
    if (mapped !== undefined) {
      out += text.slice(copiedUpTo, i) + mapped;
      copiedUpTo = i + width;
    }
    i += width - 1;
  }
  if (copiedUpTo === 0) return text;
  return out + text.slice(copiedUpTo);
}

/** Python 3.11's `str.lower()` (full Unicode lowercasing, Final_Sigma included, no normalization). */
export function pythonLower(text: string): string {
  let hasUpper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return lowerSlow(text);
    if (c >= 0x41 && c <= 0x5a) hasUpper = true;
  }
  // For pure ASCII the native lowercasing is exactly Python's and the fastest there is.
  return hasUpper ? text.toLowerCase() : text;
}
