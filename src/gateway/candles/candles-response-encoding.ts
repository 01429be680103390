import { toBinary } from "@bufbuild/protobuf";
import { type ResponseMeta, ResponseMetaSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CandleInit } from "./candle-coordinator.js";
import { varintLength, writeVarint } from "../../shared/protobuf-wire.js";

/** A GetCandles answer before encoding: the candles as plain objects, the meta as a message. */
export interface CandlesAnswer {
  readonly candles: readonly CandleInit[];
  readonly meta: ResponseMeta;
}

// Wire tags of GetCandlesResponse and Candle (field number << 3 | wire type), see market_data.proto.
const TAG_CANDLES = (1 << 3) | 2;
const TAG_META = (2 << 3) | 2;
const TAG_TIME = (1 << 3) | 0;
/** open, high, low, close, volume, quote_volume: fields 2..7, fixed64. */
const DOUBLE_TAGS = [2, 3, 4, 5, 6, 7].map((n) => (n << 3) | 1);
const TAG_SYNTHETIC = (8 << 3) | 0;
const TAG_CLOSED = (9 << 3) | 0;

function doublesOf(c: CandleInit): readonly number[] {
  return [c.open, c.high, c.low, c.close, c.volume, c.quoteVolume];
}

/** proto3 leaves a double out only when it is +0 (protobuf-es writes -0, whose bits differ). */
function isSetDouble(d: number): boolean {
  return d !== 0 || Object.is(d, -0);
}

/** Bytes of one Candle message body; proto3 leaves zero and false fields out, as protobuf-es does. */
function candleLength(c: CandleInit, time: number): number {
  let len = time === 0 ? 0 : 1 + varintLength(time);
  for (const d of doublesOf(c)) if (isSetDouble(d)) len += 9;
  if (c.synthetic) len += 2;
  if (c.closed) len += 2;
  return len;
}

/**
 * GetCandlesResponse in protobuf wire format, written directly: the same bytes protobuf-es would
 * produce (a test holds them equal), without building 20,000 message objects and walking them by
 * reflection, which is most of what a warm answer costs. Times must be non-negative (they are:
 * candles start after 2017).
 */
export function encodeCandlesAnswer(answer: CandlesAnswer): Buffer {
  const meta = toBinary(ResponseMetaSchema, answer.meta);
  const times = answer.candles.map((c) => Number(c.timeMs));
  const lengths = answer.candles.map((c, i) => candleLength(c, times[i]!));
  // A set message field is written even when empty, as protobuf-es does.
  let size = 1 + varintLength(meta.length) + meta.length;
  for (const len of lengths) size += 1 + varintLength(len) + len;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  answer.candles.forEach((c, i) => {
    buf[at++] = TAG_CANDLES;
    at = writeVarint(buf, at, lengths[i]!);
    const time = times[i]!;
    if (time !== 0) {
      buf[at++] = TAG_TIME;
      at = writeVarint(buf, at, time);
    }
    doublesOf(c).forEach((d, k) => {
      if (!isSetDouble(d)) return;
      buf[at++] = DOUBLE_TAGS[k]!;
      buf.writeDoubleLE(d, at);
      at += 8;
    });
    if (c.synthetic) {
      buf[at++] = TAG_SYNTHETIC;
      buf[at++] = 1;
    }
    if (c.closed) {
      buf[at++] = TAG_CLOSED;
      buf[at++] = 1;
    }
  });
  buf[at++] = TAG_META;
  at = writeVarint(buf, at, meta.length);
  buf.set(meta, at);
  return buf;
}
