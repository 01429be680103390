import { allocateColumns, type CandleColumns, columnsLength, PRICE_COLUMNS } from "./candle-columns.js";
import { lenFieldLength, SIX_BYTE_VARINT_END, SIX_BYTE_VARINT_MIN, WIRE_LEN, wireTag, writeSixByteVarint, writeVarint } from "./protobuf-wire.js";
import "./candle-columns-wire.js"; // refuses big-endian hosts: price columns are copied as their bytes

/**
 * The candle columns of `backbone.marketdata.v1.CandleBatch` (fields 2-8: `time_ms` as packed
 * varints, then six packed doubles) in protobuf wire format. The daemon writes them for range
 * reads the gateway forwards (`ReadCandlesRequest.as_candle_batch`); the gateway writes them for
 * candles it holds as columns. Either way a bulk answer's candles are encoded once, in one place.
 */

/** Candles already in CandleBatch wire format, with what a forwarder needs without decoding them. */
export interface EncodedCandles {
  readonly count: number;
  /** Open time of the last candle, UTC ms. */
  readonly lastTimeMs: number;
  /** CandleBatch fields 2-8; empty when `count` is 0. */
  readonly bytes: Uint8Array;
}

/** Candles of one market in time order, as columns or already encoded. */
export type CandlePart = CandleColumns | EncodedCandles;

export function isEncoded(part: CandlePart): part is EncodedCandles {
  return "bytes" in part;
}

/** Open time of the part's last candle; undefined when it is empty. */
export function partLastTime(part: CandlePart): number | undefined {
  if (isEncoded(part)) return part.count > 0 ? part.lastTimeMs : undefined;
  const n = columnsLength(part);
  return n > 0 ? Number(part.time[n - 1]) : undefined;
}

const TAG_TIME = wireTag(2, WIRE_LEN);
/** open, high, low, close, volume, quote_volume: CandleBatch fields 3..8. */
const FIRST_PRICE_FIELD = 3;

/** High halves of the 6-byte varint range [2^35, 2^42). */
const SIX_BYTE_HI_MIN = SIX_BYTE_VARINT_MIN / 2 ** 32;
const SIX_BYTE_HI_END = SIX_BYTE_VARINT_END / 2 ** 32;

/** The times as 32-bit halves (little-endian host): no BigInt per value. */
function halvesOf(time: BigInt64Array): Uint32Array {
  return new Uint32Array(time.buffer, time.byteOffset, 2 * time.length);
}

/** Whether every time is a 6-byte varint: its high half lies in [2^3, 2^10). */
function allSixBytes(halves: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const hi = halves[2 * i + 1]!;
    if (hi < SIX_BYTE_HI_MIN || hi >= SIX_BYTE_HI_END) return false;
  }
  return true;
}

/** Varint length of the non-negative 64-bit value `hi * 2^32 + lo`, in integer arithmetic. */
function varint64Length(lo: number, hi: number): number {
  let len = 1;
  while (hi !== 0 || lo > 127) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    len++;
  }
  return len;
}

/** Writes `hi * 2^32 + lo` as a varint; integer arithmetic, so no BigInt and no float division per value. */
function writeVarint64(buf: Uint8Array, at: number, lo: number, hi: number): number {
  while (hi !== 0 || lo > 127) {
    buf[at++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[at++] = lo;
  return at;
}

function timeBytesLength(halves: Uint32Array, n: number, sixBytes: boolean): number {
  if (sixBytes) return 6 * n;
  let len = 0;
  for (let i = 0; i < n; i++) len += varint64Length(halves[2 * i]!, halves[2 * i + 1]!);
  return len;
}

function writeTimes(buf: Uint8Array, at: number, halves: Uint32Array, n: number, sixBytes: boolean): number {
  if (!sixBytes) {
    for (let i = 0; i < n; i++) at = writeVarint64(buf, at, halves[2 * i]!, halves[2 * i + 1]!);
    return at;
  }
  // Candles start after 2017, so every batch takes this path; the general one stays for anything else.
  for (let i = 0; i < n; i++) at = writeSixByteVarint(buf, at, halves[2 * i]!, halves[2 * i + 1]!);
  return at;
}

/** How `writeCandleBatchFields` lays out some columns: worked out once for sizing and writing. */
export interface CandleBatchLayout {
  /** Bytes written. */
  readonly length: number;
  readonly timeBytes: number;
  readonly sixBytes: boolean;
}

export function candleBatchLayout(c: CandleColumns): CandleBatchLayout {
  const n = columnsLength(c);
  if (n === 0) return { length: 0, timeBytes: 0, sixBytes: true };
  const halves = halvesOf(c.time);
  const sixBytes = allSixBytes(halves, n);
  const timeBytes = timeBytesLength(halves, n, sixBytes);
  return { length: lenFieldLength(timeBytes) + PRICE_COLUMNS.length * lenFieldLength(8 * n), timeBytes, sixBytes };
}

/**
 * Writes CandleBatch fields 2-8 of `c` at `at` as `layout` (of these columns) says: the same bytes
 * protobuf-es writes for them (a packed double field is the column's own little-endian bytes, so a
 * price column is one copy); returns the end. Times must be non-negative (candles start after 2017).
 */
export function writeCandleBatchFields(buf: Buffer, at: number, c: CandleColumns, layout: CandleBatchLayout): number {
  const n = columnsLength(c);
  if (n === 0) return at;
  buf[at++] = TAG_TIME;
  at = writeVarint(buf, at, layout.timeBytes);
  at = writeTimes(buf, at, halvesOf(c.time), n, layout.sixBytes);
  PRICE_COLUMNS.forEach((name, k) => {
    const column = c[name];
    buf[at++] = wireTag(FIRST_PRICE_FIELD + k, WIRE_LEN);
    at = writeVarint(buf, at, 8 * n);
    buf.set(new Uint8Array(column.buffer, column.byteOffset, 8 * n), at);
    at += 8 * n;
  });
  return at;
}

export function encodeCandleBatchFields(c: CandleColumns): EncodedCandles {
  const layout = candleBatchLayout(c);
  const bytes = Buffer.allocUnsafe(layout.length);
  writeCandleBatchFields(bytes, 0, c, layout);
  const n = columnsLength(c);
  return { count: n, lastTimeMs: n > 0 ? Number(c.time[n - 1]) : 0, bytes };
}

/**
 * The columns of encoded candles, for when a forwarder must re-cut them. Reads only what
 * `writeCandleBatchFields` writes (each field once, packed); throws a RangeError on anything else
 * or when a column does not hold `count` values.
 */
export function decodeCandleBatchFields(e: EncodedCandles): CandleColumns {
  const out = allocateColumns(e.count);
  const b = e.bytes;
  const seen = new Set<number>();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at >= b.length) throw new RangeError("encoded candles: truncated varint");
      const byte = b[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError("encoded candles: varint too long");
    }
  };
  while (at < b.length) {
    const tag = varint();
    const field = tag >>> 3;
    if ((tag & 7) !== WIRE_LEN || field < 2 || field > 8 || seen.has(field)) throw new RangeError(`encoded candles: unexpected tag ${tag}`);
    seen.add(field);
    const len = varint();
    const end = at + len;
    if (end > b.length) throw new RangeError(`encoded candles: field ${field} runs past the end`);
    if (field === 2) {
      let i = 0;
      while (at < end) {
        if (i >= e.count) throw new RangeError(`encoded candles: more than ${e.count} times`);
        out.time[i++] = BigInt(varint());
      }
      if (at !== end || i !== e.count) throw new RangeError(`encoded candles: ${i} times, not ${e.count}`);
    } else {
      if (len !== 8 * e.count) throw new RangeError(`encoded candles: field ${field} holds ${len} bytes, not ${8 * e.count}`);
      const column = out[PRICE_COLUMNS[field - FIRST_PRICE_FIELD]!];
      new Uint8Array(column.buffer, column.byteOffset, len).set(b.subarray(at, end));
      at = end;
    }
  }
  if (e.count > 0 && seen.size !== 7) throw new RangeError("encoded candles: a column is missing");
  return out;
}
