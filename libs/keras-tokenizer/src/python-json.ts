// Python's json module as Keras uses it: json.dumps() with its defaults (ensure_ascii=True,
// separators ", " and ": ") and json.loads(). Objects are Maps on both sides because key order
// is part of the format and JSON.parse() would move integer-like keys ("64", "1") to the front.

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | ReadonlyMap<string | number, JsonValue>;

const HEX = '0123456789abcdef';

function unicodeEscape(code: number): string {
  return '\\u' + HEX[(code >> 12) & 15]! + HEX[(code >> 8) & 15]! + HEX[(code >> 4) & 15]! + HEX[code & 15]!;
}

/** How ensure_ascii writes each ASCII code unit; undefined for the ones written as they are. */
const ASCII_ESCAPES: (string | undefined)[] = [];
for (let c = 0; c < 0x80; c++) {
  if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
  ASCII_ESCAPES[c] = unicodeEscape(c);
}
ASCII_ESCAPES[0x22] = '\\"';
ASCII_ESCAPES[0x5c] = '\\\\';
ASCII_ESCAPES[0x0a] = '\\n';
ASCII_ESCAPES[0x0d] = '\\r';
ASCII_ESCAPES[0x09] = '\\t';
ASCII_ESCAPES[0x08] = '\\b';
ASCII_ESCAPES[0x0c] = '\\f';

/**
 * A JSON string literal as Python's json.dumps(s) writes it: everything outside printable ASCII
 * (DEL 0x7f included) as \uXXXX in lowercase hex, astral characters as their surrogate pair.
 */
export function pyJsonString(text: string): string {
  let out = '"';
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const escaped = c < 0x80 ? ASCII_ESCAPES[c] : unicodeEscape(c);
    if (escaped !== undefined) {
      out += text.slice(copiedUpTo, i) + escaped;
      copiedUpTo = i + 1;
    }
  }
  return out + text.slice(copiedUpTo) + '"';
}

function pyJsonNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (!Number.isSafeInteger(value)) {
    // Keras only ever writes ints here; a float would need Python's repr(), which differs from JS.
    throw new RangeError(`cannot write ${value} the way Python does: only safe integers are supported`);
  }
  return String(value);
}

/** Python's json.dumps(value) with default arguments. Map keys are written as strings, as Python does for int keys. */
export function pyJsonDumps(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return pyJsonNumber(value);
    case 'string':
      return pyJsonString(value);
  }
  if (Array.isArray(value)) {
    return '[' + (value as readonly JsonValue[]).map(pyJsonDumps).join(', ') + ']';
  }
  const parts: string[] = [];
  for (const [key, item] of value as ReadonlyMap<string | number, JsonValue>) {
    const keyText = typeof key === 'number' ? pyJsonString(pyJsonNumber(key)) : pyJsonString(key);
    parts.push(keyText + ': ' + pyJsonDumps(item));
  }
  return '{' + parts.join(', ') + '}';
}

export class PyJsonParseError extends SyntaxError {
  override name = 'PyJsonParseError';
}

/** A parsed JSON object: keys in document order; a repeated key keeps its first place and its last value (as a Python dict does). */
export type JsonObject = Map<string, ParsedJson>;
export type ParsedJson = null | boolean | number | string | ParsedJson[] | JsonObject;

/** Python's json.loads(text) (NaN and ±Infinity accepted as Python does), objects as ordered Maps. */
export function pyJsonLoads(text: string): ParsedJson {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('extra data');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new PyJsonParseError(`${what} at position ${this.pos}`);
  }

  skipWhitespace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private literal(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    this.pos += word.length;
    return true;
  }

  value(): ParsedJson {
    const c = this.text[this.pos];
    if (c === '"') return this.string();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (this.literal('null')) return null;
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('NaN')) return NaN;
    if (this.literal('Infinity')) return Infinity;
    if (this.literal('-Infinity')) return -Infinity;
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('expecting value');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private object(): JsonObject {
    const result: JsonObject = new Map();
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expecting property name enclosed in double quotes');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("expecting ':' delimiter");
      this.pos++;
      this.skipWhitespace();
      result.set(key, this.value());
      this.skipWhitespace();
      const next = this.text[this.pos++];
      if (next === '}') return result;
      if (next !== ',') this.fail("expecting ',' delimiter");
      this.skipWhitespace();
    }
  }

  private array(): ParsedJson[] {
    const result: ParsedJson[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skipWhitespace();
      const next = this.text[this.pos++];
      if (next === ']') return result;
      if (next !== ',') this.fail("expecting ',' delimiter");
      this.skipWhitespace();
    }
  }

  private string(): string {
    const text = this.text;
    let out = '';
    let i = ++this.pos;
    let chunkStart = i;
    for (;;) {
      if (i >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return out + text.slice(chunkStart, i);
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail('invalid control character');
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(chunkStart, i);
      const e = text[i + 1];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = i;
            this.fail('invalid \\uXXXX escape');
          }
          // Surrogate pairs need no joining: two UTF-16 code units already are the character.
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.pos = i;
          this.fail('invalid \\escape');
      }
      i += 2;
      chunkStart = i;
    }
  }
}
