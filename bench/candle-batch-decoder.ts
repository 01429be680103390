/**
 * Decodes a FetchCandleRangeResponse straight from its wire bytes into typed arrays, for the bulk
 * bench: protobuf-es builds a JS array of numbers per column (and a BigInt per time), which at
 * millions of candles a second would make the client, not the system, what the bench measures.
 * Packed double columns are copied as bytes; packed int64 times are decoded into a Float64Array
 * (exact: candle times are far below 2^53). Field numbers from market_data.proto:
 *   FetchCandleRangeResponse { CandleBatch batch = 1 }
 *   CandleBatch { string market = 1; repeated int64 time_ms = 2; repeated double open = 3 ...
 *                 quote_volume = 8; Progress progress = 9; ResponseMeta meta = 10 }
 *   Progress { int64 buckets_done = 1; int64 buckets_total = 2; uint32 markets_done = 3; uint32 markets_total = 4 }
 * Like any protobuf parser it accepts repeated fields packed or not, split over several records,
 * and merges repeated occurrences of a message field.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { endianness } from "node:os";
import { type ResponseMeta, ResponseMetaSchema } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";

export interface DecodedProgress {
  bucketsDone: number;
  bucketsTotal: number;
  marketsDone: number;
  marketsTotal: number;
}

export interface DecodedCandleBatch {
  market: string;
  /** Bucket open times, UTC ms. */
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  quoteVolume: Float64Array;
  /** Undefined when the batch carries no progress field. */
  progress: DecodedProgress | undefined;
  /** Set only on a market's last batch. */
  meta: ResponseMeta | undefined;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const PRICE_FIELDS = ["open", "high", "low", "close", "volume", "quoteVolume"] as const;
type PriceField = (typeof PRICE_FIELDS)[number];
/** CandleBatch field number of each price column: open = 3 ... quote_volume = 8. */
const FIRST_PRICE_FIELD = 3;
const LITTLE_ENDIAN = endianness() === "LE";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A byte range `[start, end)` of the message. */
type Chunk = readonly [number, number];

/** What the batch's records add up to, before the columns are materialised. */
interface Parts {
  market: string;
  /** Ranges holding concatenated time varints (a packed record, or one unpacked value). */
  time: Chunk[];
  prices: Chunk[][];
  progress: DecodedProgress | undefined;
  meta: Chunk[];
}

class DecodeError extends Error {
  override readonly name = "DecodeError";
}

class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number; values above 2^53 (and negative int64s) are refused, not rounded. */
  varint(field: string): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new DecodeError(`${field}: truncated varint`);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (value > Number.MAX_SAFE_INTEGER) throw new DecodeError(`${field}: ${value} is negative or above 2^53`);
    return value;
  }

  /** The byte range of a length-delimited field's body; moves past it. */
  body(field: string): Chunk {
    const len = this.varint(`${field} length`);
    const start = this.pos;
    if (start + len > this.end) throw new DecodeError(`${field}: length ${len} runs past the end of its message`);
    this.pos += len;
    return [start, start + len];
  }

  skip(wire: number, field: string): void {
    if (wire === WIRE_VARINT) this.varintBytes(field);
    else if (wire === WIRE_I64) this.fixed(8, field);
    else if (wire === WIRE_LEN) this.body(field);
    else if (wire === WIRE_I32) this.fixed(4, field);
    else throw new DecodeError(`${field}: unsupported wire type ${wire}`);
  }

  /** Moves past a varint of any size (an unknown field's may exceed 2^53). */
  varintBytes(field: string): Chunk {
    const start = this.pos;
    while (this.pos < this.end && this.buf[this.pos]! >= 0x80) this.pos++;
    if (this.pos >= this.end) throw new DecodeError(`${field}: truncated varint`);
    this.pos++;
    return [start, this.pos];
  }

  fixed(n: number, field: string): Chunk {
    if (this.pos + n > this.end) throw new DecodeError(`${field}: truncated ${n}-byte value`);
    this.pos += n;
    return [this.pos - n, this.pos];
  }
}

function expectWire(wire: number, allowed: readonly number[], field: string): void {
  if (!allowed.includes(wire)) throw new DecodeError(`${field}: wire type ${wire}, expected ${allowed.join(" or ")}`);
}

function readProgress(r: Reader, into: DecodedProgress): void {
  while (r.pos < r.end) {
    const tag = r.varint("progress tag");
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const name = ["", "bucketsDone", "bucketsTotal", "marketsDone", "marketsTotal"][field] as keyof DecodedProgress | "" | undefined;
    if (name) {
      expectWire(wire, [WIRE_VARINT], `progress.${name}`);
      into[name] = r.varint(`progress.${name}`);
    } else r.skip(wire, `progress field ${field}`);
  }
}

function readBatch(r: Reader, parts: Parts): void {
  while (r.pos < r.end) {
    const tag = r.varint("batch tag");
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1) {
      expectWire(wire, [WIRE_LEN], "market");
      const [s, e] = r.body("market");
      parts.market = utf8.decode(r.buf.subarray(s, e));
    } else if (field === 2) {
      expectWire(wire, [WIRE_LEN, WIRE_VARINT], "time_ms");
      parts.time.push(wire === WIRE_LEN ? r.body("time_ms") : r.varintBytes("time_ms"));
    } else if (field >= FIRST_PRICE_FIELD && field < FIRST_PRICE_FIELD + PRICE_FIELDS.length) {
      const name = PRICE_FIELDS[field - FIRST_PRICE_FIELD]!;
      expectWire(wire, [WIRE_LEN, WIRE_I64], name);
      parts.prices[field - FIRST_PRICE_FIELD]!.push(wire === WIRE_LEN ? r.body(name) : r.fixed(8, name));
    } else if (field === 9) {
      expectWire(wire, [WIRE_LEN], "progress");
      const [s, e] = r.body("progress");
      parts.progress ??= { bucketsDone: 0, bucketsTotal: 0, marketsDone: 0, marketsTotal: 0 };
      readProgress(new Reader(r.buf, s, e), parts.progress);
    } else if (field === 10) {
      expectWire(wire, [WIRE_LEN], "meta");
      parts.meta.push(r.body("meta"));
    } else r.skip(wire, `batch field ${field}`);
  }
}

/**
 * The times when they are what the gateway sends for candles: `n` 6-byte varints (millisecond
 * times from 1971 to 2109), read six bytes at a time in integer arithmetic. Undefined when they
 * are anything else, for the general decoder.
 */
function decodeSixByteTimes(buf: Uint8Array, chunks: readonly Chunk[], n: number): Float64Array | undefined {
  if (chunks.reduce((sum, [s, e]) => sum + (e - s), 0) !== 6 * n || chunks.some(([s, e]) => (e - s) % 6 !== 0)) return undefined;
  const out = new Float64Array(n);
  let k = 0;
  for (const [s, e] of chunks) {
    for (let p = s; p < e; p += 6) {
      const b0 = buf[p]!;
      const b1 = buf[p + 1]!;
      const b2 = buf[p + 2]!;
      const b3 = buf[p + 3]!;
      const b4 = buf[p + 4]!;
      const b5 = buf[p + 5]!;
      if ((b0 & b1 & b2 & b3 & b4 & 0x80) === 0 || b5 >= 0x80) return undefined;
      const low28 = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | ((b3 & 0x7f) << 21);
      out[k++] = low28 + ((b4 & 0x7f) | (b5 << 7)) * 2 ** 28;
    }
  }
  return out;
}

function decodeTimes(buf: Uint8Array, chunks: readonly Chunk[], expected: number): Float64Array {
  const sixBytes = decodeSixByteTimes(buf, chunks, expected);
  if (sixBytes !== undefined) return sixBytes;
  let n = 0;
  // Every varint ends in exactly one byte below 0x80.
  for (const [s, e] of chunks) for (let p = s; p < e; p++) if (buf[p]! < 0x80) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (const [s, e] of chunks) {
    if (e > s && buf[e - 1]! >= 0x80) throw new DecodeError("time_ms: truncated varint");
    let p = s;
    while (p < e) {
      let b = buf[p++]!;
      let value = b & 0x7f;
      let scale = 128;
      while (b >= 0x80) {
        b = buf[p++]!;
        value += (b & 0x7f) * scale;
        scale *= 128;
      }
      if (value > Number.MAX_SAFE_INTEGER) throw new DecodeError(`time_ms[${k}]: ${value} is negative or above 2^53`);
      out[k++] = value;
    }
  }
  return out;
}

function decodeDoubles(buf: Uint8Array, chunks: readonly Chunk[], name: PriceField): Float64Array {
  const bytes = chunks.reduce((n, [s, e]) => n + (e - s), 0);
  if (bytes % 8 !== 0) throw new DecodeError(`${name}: ${bytes} bytes of packed doubles is not a multiple of 8`);
  const out = new Float64Array(bytes / 8);
  if (LITTLE_ENDIAN) {
    // The wire's little-endian doubles are the array's own bytes: one copy per record.
    const raw = new Uint8Array(out.buffer);
    let at = 0;
    for (const [s, e] of chunks) {
      raw.set(buf.subarray(s, e), at);
      at += e - s;
    }
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let k = 0;
    for (const [s, e] of chunks) for (let p = s; p < e; p += 8) out[k++] = view.getFloat64(p, true);
  }
  return out;
}

function decodeMeta(buf: Uint8Array, chunks: readonly Chunk[]): ResponseMeta | undefined {
  if (chunks.length === 0) return undefined;
  // Repeated occurrences of a message field merge, which is what parsing their concatenation does.
  const bytes = chunks.length === 1 ? buf.subarray(chunks[0]![0], chunks[0]![1]) : Buffer.concat(chunks.map(([s, e]) => buf.subarray(s, e)));
  return fromBinary(ResponseMetaSchema, bytes);
}

/**
 * One FetchCandleRangeResponse (a gRPC message body, without the 5-byte frame prefix). Throws when
 * the bytes are not a valid message or the columns differ in length.
 */
export function decodeFetchCandleRangeResponse(buf: Uint8Array): DecodedCandleBatch {
  const parts: Parts = { market: "", time: [], prices: PRICE_FIELDS.map(() => []), progress: undefined, meta: [] };
  const r = new Reader(buf, 0, buf.length);
  while (r.pos < r.end) {
    const tag = r.varint("response tag");
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1) {
      expectWire(wire, [WIRE_LEN], "batch");
      const [s, e] = r.body("batch");
      readBatch(new Reader(buf, s, e), parts);
    } else r.skip(wire, `response field ${field}`);
  }
  const time = decodeTimes(buf, parts.time, parts.prices[0]!.reduce((n, [s, e]) => n + (e - s), 0) / 8);
  const [open, high, low, close, volume, quoteVolume] = PRICE_FIELDS.map((name, k) => {
    const column = decodeDoubles(buf, parts.prices[k]!, name);
    if (column.length !== time.length) throw new DecodeError(`${name} holds ${column.length} values, time_ms ${time.length}`);
    return column;
  }) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  return { market: parts.market, time, open, high, low, close, volume, quoteVolume, progress: parts.progress, meta: decodeMeta(buf, parts.meta) };
}
