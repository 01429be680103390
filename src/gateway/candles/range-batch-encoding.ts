import { toBinary } from "@bufbuild/protobuf";
import { type ResponseMeta, ResponseMetaSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CandlePart, candleBatchLayout, isEncoded, writeCandleBatchFields } from "../../shared/candle-batch-wire.js";
import { lenFieldLength, varintLength, WIRE_LEN, WIRE_VARINT, wireTag, writeVarint } from "../../shared/protobuf-wire.js";
import type { ScratchBuffer } from "../../shared/scratch-buffer.js";

/** The Progress message's fields, in order (see market_data.proto). */
export interface RangeProgress {
  bucketsDone: number;
  bucketsTotal: number;
  marketsDone: number;
  marketsTotal: number;
}

/** One FetchCandleRange message before encoding: a market's candles, as columns or already encoded. */
export interface RangeBatch {
  readonly market: string;
  readonly candles: CandlePart;
  readonly progress: RangeProgress;
  /** Only on the market's last batch. */
  readonly meta?: ResponseMeta;
}

// FetchCandleRangeResponse.batch, then CandleBatch's fields (see market_data.proto).
const TAG_BATCH = wireTag(1, WIRE_LEN);
const TAG_MARKET = wireTag(1, WIRE_LEN);
const TAG_PROGRESS = wireTag(9, WIRE_LEN);
const TAG_META = wireTag(10, WIRE_LEN);

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

/** A batch's candle fields: the daemon's bytes as they are, or columns written out. */
function candlesField(part: CandlePart): { length: number; write(buf: Buffer, at: number): number } {
  if (isEncoded(part)) {
    return {
      length: part.bytes.length,
      write: (buf, at) => {
        buf.set(part.bytes, at);
        return at + part.bytes.length;
      },
    };
  }
  const layout = candleBatchLayout(part);
  return { length: layout.length, write: (buf, at) => writeCandleBatchFields(buf, at, part, layout) };
}

/**
 * FetchCandleRangeResponse in protobuf wire format, written directly: the same bytes protobuf-es
 * produces (a test holds them equal). Candles already encoded by the daemon are copied as they
 * are; columns are written by `writeCandleBatchFields`. With `out`, the message is written into
 * its reusable buffer (see ScratchBuffer: only for a serializer handed to grpc-js).
 */
export function encodeRangeBatch(b: RangeBatch, out?: ScratchBuffer): Buffer {
  const market = Buffer.from(b.market, "utf8");
  const progress = encodeProgress(b.progress);
  const meta = b.meta ? toBinary(ResponseMetaSchema, b.meta) : undefined;
  const candles = candlesField(b.candles);
  let body = candles.length + lenFieldLength(progress.length);
  if (market.length > 0) body += lenFieldLength(market.length);
  if (meta) body += lenFieldLength(meta.length);
  const size = lenFieldLength(body);
  const buf = out ? out.take(size) : Buffer.allocUnsafe(size);
  let at = 0;
  buf[at++] = TAG_BATCH;
  at = writeVarint(buf, at, body);
  if (market.length > 0) {
    buf[at++] = TAG_MARKET;
    at = writeVarint(buf, at, market.length);
    at += market.copy(buf, at);
  }
  at = candles.write(buf, at);
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
