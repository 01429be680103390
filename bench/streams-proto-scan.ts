/**
 * Reads the few fields the streams bench needs straight off a StreamTickersResponse or
 * StreamOrderbooksResponse in wire format, without decoding the rest: a subscriber process takes
 * tens of thousands of messages a second, and a full decode per message would make the client,
 * not the gateway, what the bench measures. Field numbers from market_data.proto:
 *   Stream*Response { <value> = 1 (message); bool snapshot = 2 }
 *   Ticker    { string market = 1; int64 trade_time_ms = 2; ... int64 timestamp_ms = 22 }
 *   Orderbook { string market = 1; int64 timestamp_ms = 2; ... }
 */

export type StreamKind = "ticker" | "orderbook";

export interface ScannedUpdate {
  market: string;
  /** What identifies the upstream message: the ticker's trade time, the book's change time. */
  keyMs: number;
  /** The simulator's `timestamp` of the message (the ticker's field 22; the book's change time). */
  stampMs: number;
  snapshot: boolean;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const TICKER_TIMESTAMP_FIELD = 22;
const decoder = new TextDecoder();

class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** Varints up to 2^53 (ms timestamps): multiplication, since bit operators stop at 32 bits. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) {
      const len = this.varint(); // read first: `this.pos += this.varint()` would add to the old pos
      this.pos += len;
    }
    else if (wire === WIRE_I32) this.pos += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
}

function scanValue(kind: StreamKind, c: Cursor, out: ScannedUpdate): void {
  while (c.pos < c.end) {
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      const len = c.varint();
      out.market = decoder.decode(c.buf.subarray(c.pos, c.pos + len));
      c.pos += len;
    } else if (field === 2 && wire === WIRE_VARINT) {
      out.keyMs = c.varint();
      if (kind === "orderbook") out.stampMs = out.keyMs;
    } else if (kind === "ticker" && field === TICKER_TIMESTAMP_FIELD && wire === WIRE_VARINT) {
      out.stampMs = c.varint();
    } else c.skip(wire);
  }
}

/** The update in one gRPC message body (no 5-byte prefix). */
export function scanStreamResponse(kind: StreamKind, buf: Uint8Array, start = 0, end = buf.length): ScannedUpdate {
  const out: ScannedUpdate = { market: "", keyMs: 0, stampMs: 0, snapshot: false };
  const c = new Cursor(buf, start, end);
  while (c.pos < c.end) {
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      const len = c.varint();
      scanValue(kind, new Cursor(buf, c.pos, c.pos + len), out);
      c.pos += len;
    } else if (field === 2 && wire === WIRE_VARINT) out.snapshot = c.varint() !== 0;
    else c.skip(wire);
  }
  return out;
}

/** The key both sides of a latency pair agree on. */
export const updateKey = (market: string, keyMs: number): string => `${market}|${keyMs}`;
