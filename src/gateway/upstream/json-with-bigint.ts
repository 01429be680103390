/**
 * A strict JSON parser (RFC 8259, the same grammar as `JSON.parse`) that can return chosen
 * integers exactly as bigint. Upbit's `sequential_id` exceeds 2^53 and `JSON.parse` rounds it
 * (17303368620800006 becomes …004), and Node 20 has no reviver access to the source text, so
 * the only exact way is to read the digits ourselves.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** The text is not JSON; `position` is the offset of the first character that could not be read. */
export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    readonly position: number,
    problem: string,
  ) {
    super(`${problem} at position ${position}`);
  }
}

export function isJsonSyntaxError(e: unknown): e is JsonSyntaxError {
  return e instanceof JsonSyntaxError;
}

export interface ParseJsonOptions {
  /**
   * Object keys whose integer values (no fraction, no exponent) are returned as bigint, exactly,
   * whatever their size. Other numbers stay numbers. Default: none.
   */
  bigintKeys?: ReadonlySet<string>;
  /** Deepest nesting of arrays and objects accepted; deeper text is a JsonSyntaxError. Default 64. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;
const NO_KEYS: ReadonlySet<string> = new Set();
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Parses `text` like `JSON.parse`, except that integers under `bigintKeys` come back as bigint. */
export function parseJsonWithBigInt(text: string, options: ParseJsonOptions = {}): JsonValue {
  return new JsonReader(text, options.bigintKeys ?? NO_KEYS, options.maxDepth ?? DEFAULT_MAX_DEPTH).document();
}

class JsonReader {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly bigintKeys: ReadonlySet<string>,
    private readonly maxDepth: number,
  ) {}

  document(): JsonValue {
    const value = this.value(0, undefined);
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail("unexpected text after the JSON value");
    return value;
  }

  private fail(problem: string): never {
    throw new JsonSyntaxError(this.pos, this.pos >= this.text.length ? `${problem} (end of text)` : problem);
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private value(depth: number, key: string | undefined): JsonValue {
    this.skipWhitespace();
    const c = this.text[this.pos];
    switch (c) {
      case "{":
        return this.object(depth + 1);
      case "[":
        return this.array(depth + 1);
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      default:
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number(key);
        return this.fail("expected a JSON value");
    }
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private number(key: string | undefined): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail("malformed number");
    this.pos += match[0].length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    if (isInteger && key !== undefined && this.bigintKeys.has(key)) return BigInt(match[0]);
    return Number(match[0]);
  }

  private string(): string {
    const t = this.text;
    let p = this.pos + 1; // past the opening quote
    let out = "";
    let runStart = p;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) {
        this.pos = p;
        return this.fail("unterminated string");
      }
      if (c === 0x22) {
        out += t.slice(runStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        return this.fail("control character in string");
      }
      if (c === 0x5c) {
        out += t.slice(runStart, p);
        const e = t[p + 1];
        if (e === "u") {
          const hex = t.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = p;
            return this.fail("bad \\u escape");
          }
          out += String.fromCharCode(parseInt(hex, 16));
          p += 6;
        } else {
          const replacement = e === undefined ? undefined : ESCAPES[e];
          if (replacement === undefined) {
            this.pos = p;
            return this.fail("bad escape");
          }
          out += replacement;
          p += 2;
        }
        runStart = p;
        continue;
      }
      p++;
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth, undefined));
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") {
        this.pos--;
        this.fail("expected , or ] in array");
      }
    }
  }

  private object(depth: number): { [key: string]: JsonValue } {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.pos++; // {
    const out: { [key: string]: JsonValue } = {};
    this.skipWhitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail("expected a string key in object");
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ":") this.fail("expected : after object key");
      this.pos++;
      const value = this.value(depth, key);
      // An own property even for "__proto__", as JSON.parse does; plain assignment would set the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "}") return out;
      if (c !== ",") {
        this.pos--;
        this.fail("expected , or } in object");
      }
    }
  }
}
