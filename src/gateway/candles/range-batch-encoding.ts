import { toBinary } from "@bufbuild/protobuf";
import { type ResponseMeta, ResponseMetaSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CandleColumns, columnsLength, PRICE_COLUMNS } from "../../shared/candle-columns.js";
import { lenFieldLength, varintLength, WIRE_LEN, WIRE_VARINT, wireTag, writeVarint } from "../../shared/protobuf-wire.js";

/** The Progress message's fields, in order (see market_data.proto). */
export interface RangeProgress {
  bucketsDone: number;
  bucketsTotal: number;
  marketsDone: number;
  marketsTotal: number;
}

/** One FetchCandleRange message before encoding: a market's candles as columns. */
export interface RangeBatch {
  readonly market: string;
  readonly candles: CandleColumns;
  readonly progress: RangeProgress;
  /** Only on the market's last batch. */
  readonly meta?: ResponseMeta;
}

// FetchCandleRangeResponse.batch, then CandleBatch's fields (see market_data.proto).
const TAG_BATCH = wireTag(1, WIRE_LEN);
const TAG_MARKET = wireTag(1, WIRE_LEN);
const TAG_TIME = wireTag(2, WIRE_LEN);
/** open, high, low, close, volume, quote_volume: fields 3..8, packed doubles. */
const PRICE_TAGS = [3, 4, 5, 6, 7, 8].map((n) => wireTag(n, WIRE_LEN));
const TAG_PROGRESS = wireTag(9, WIRE_LEN);
const TAG_META = wireTag(10, WIRE_LEN);


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
function writeVarint64(buf: Buffer, at: number, lo: number, hi: number): number {
  while (hi !== 0 || lo > 127) {
    buf[at++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[at++] = lo;
  return at;
}

/** Progress: four varint fields, each left out when zero (proto3). */
function encodeProgress(p: RangeProgress): Buffer {
  const values = [p.bucketsDone, p.bucketsTotal, p.marketsDone, p.marketsTotal];
  const buf = Buffer.allocUnsafe(values.reduce((n, v) => n + (v === 0 ? 0 : 1 + varintLength(v)), 0));
  let at = 0;
  values.forEach((v, i) => {
    if (v === 0) return;
    buf[at++] = wireTag(i + 1, WIRE_VARINT);
    at = writeVarint(buf, at, v);
  });
  return buf;
}

/**
 * FetchCandleRangeResponse in protobuf wire format, written directly: the same bytes protobuf-es
 * produces (a test holds them equal). A packed double field is the column's own little-endian
 * bytes (the host is little-endian, see candle-columns-wire.ts), so each price column is one copy
 * instead of a write per value, and times are written from their 32-bit halves. Times must be
 * non-negative (they are: candles start after 2017).
 */
export function encodeRangeBatch(b: RangeBatch): Buffer {
  const n = columnsLength(b.candles);
  const market = Buffer.from(b.market, "utf8");
  const progress = encodeProgress(b.progress);
  const meta = b.meta ? toBinary(ResponseMetaSchema, b.meta) : undefined;
  // The times as 32-bit halves (little-endian host, checked in candle-columns-wire.ts).
  const halves = new Uint32Array(b.candles.time.buffer, b.candles.time.byteOffset, 2 * n);
  let timeBytes = 0;
  for (let i = 0; i < n; i++) timeBytes += varint64Length(halves[2 * i]!, halves[2 * i + 1]!);
  let body = 0;
  if (market.length > 0) body += lenFieldLength(market.length);
  if (n > 0) body += lenFieldLength(timeBytes) + PRICE_COLUMNS.length * lenFieldLength(8 * n);
  body += lenFieldLength(progress.length);
  if (meta) body += lenFieldLength(meta.length);
  const buf = Buffer.allocUnsafe(lenFieldLength(body));
  let at = 0;
  buf[at++] = TAG_BATCH;
  at = writeVarint(buf, at, body);
  if (market.length > 0) {
    buf[at++] = TAG_MARKET;
    at = writeVarint(buf, at, market.length);
    at += market.copy(buf, at);
  }
  if (n > 0) {
    buf[at++] = TAG_TIME;
    at = writeVarint(buf, at, timeBytes);
    for (let i = 0; i < n; i++) at = writeVarint64(buf, at, halves[2 * i]!, halves[2 * i + 1]!);
    PRICE_COLUMNS.forEach((name, k) => {
      const column = b.candles[name];
      buf[at++] = PRICE_TAGS[k]!;
      at = writeVarint(buf, at, 8 * n);
      buf.set(new Uint8Array(column.buffer, column.byteOffset, 8 * n), at);
      at += 8 * n;
    });
  }
  buf[at++] = TAG_PROGRESS;
  at = writeVarint(buf, at, progress.length);
  buf.set(progress, at);
  at += progress.length;
  if (meta) {
    buf[at++] = TAG_META;
    at = writeVarint(buf, at, meta.length);
    buf.set(meta, at);
  }
  return buf;
}
