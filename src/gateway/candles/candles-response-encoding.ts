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
// open, high, low, close, volume, quote_volume: fields 2..7, fixed64.
const TAG_OPEN = (2 << 3) | 1;
const TAG_HIGH = (3 << 3) | 1;
const TAG_LOW = (4 << 3) | 1;
const TAG_CLOSE = (5 << 3) | 1;
const TAG_VOLUME = (6 << 3) | 1;
const TAG_QUOTE_VOLUME = (7 << 3) | 1;
const TAG_SYNTHETIC = (8 << 3) | 0;
const TAG_CLOSED = (9 << 3) | 0;

/** proto3 leaves a double out only when it is +0 (protobuf-es writes -0, whose bits differ). */
function doubleLength(d: number): number {
  return d !== 0 || Object.is(d, -0) ? 9 : 0;
}

/** Bytes of one Candle message body; proto3 leaves zero and false fields out, as protobuf-es does. */
function candleLength(c: CandleInit, time: number): number {
  return (
    (time === 0 ? 0 : 1 + varintLength(time)) +
    doubleLength(c.open) +
    doubleLength(c.high) +
    doubleLength(c.low) +
    doubleLength(c.close) +
    doubleLength(c.volume) +
    doubleLength(c.quoteVolume) +
    (c.synthetic ? 2 : 0) +
    (c.closed ? 2 : 0)
  );
}

// DataView writes doubles ~15x faster than Buffer#writeDoubleLE (measured: 0.85 vs 15.6 ms for 43,200 x 6).
function writeDouble(view: DataView, at: number, tag: number, d: number): number {
  if (doubleLength(d) === 0) return at;
  view.setUint8(at, tag);
  view.setFloat64(at + 1, d, true);
  return at + 9;
}

/**
 * GetCandlesResponse in protobuf wire format, written directly: the same bytes protobuf-es would
 * produce (a test holds them equal), without building 20,000 message objects and walking them by
 * reflection, which is most of what a warm answer costs. Times must be non-negative (they are:
 * candles start after 2017).
 */
export function encodeCandlesAnswer(answer: CandlesAnswer): Buffer {
  const meta = toBinary(ResponseMetaSchema, answer.meta);
  const { candles } = answer;
  // A set message field is written even when empty, as protobuf-es does.
  let size = 1 + varintLength(meta.length) + meta.length;
  // Number(bigint) costs ~170 ns: once per candle.
  const times = new Float64Array(candles.length);
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i]!;
    const len = candleLength(c, (times[i] = Number(c.timeMs)));
    size += 1 + varintLength(len) + len;
  }
  const buf = Buffer.allocUnsafe(size);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  // No per-candle allocation: a 43,200-candle answer leaves no garbage but the buffer.
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i]!;
    const time = times[i]!;
    buf[at++] = TAG_CANDLES;
    at = writeVarint(buf, at, candleLength(c, time));
    if (time !== 0) {
      buf[at++] = TAG_TIME;
      at = writeVarint(buf, at, time);
    }
    at = writeDouble(view, at, TAG_OPEN, c.open);
    at = writeDouble(view, at, TAG_HIGH, c.high);
    at = writeDouble(view, at, TAG_LOW, c.low);
    at = writeDouble(view, at, TAG_CLOSE, c.close);
    at = writeDouble(view, at, TAG_VOLUME, c.volume);
    at = writeDouble(view, at, TAG_QUOTE_VOLUME, c.quoteVolume);
    if (c.synthetic) {
      buf[at++] = TAG_SYNTHETIC;
      buf[at++] = 1;
    }
    if (c.closed) {
      buf[at++] = TAG_CLOSED;
      buf[at++] = 1;
    }
  }
  buf[at++] = TAG_META;
  at = writeVarint(buf, at, meta.length);
  buf.set(meta, at);
  return buf;
}
