import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ScratchBuffer } from "../../../src/shared/scratch-buffer.js";
import type { CandleInit } from "../../../src/gateway/candles/candle-coordinator.js";
import { type AnswerCandles, candleInits, encodeCandlesAnswer } from "../../../src/gateway/candles/candles-response-encoding.js";
import { GapReason, GetCandlesResponseSchema, ResponseMetaSchema, Source } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { columnsFromRows } from "../../../src/shared/candle-columns.js";

const price = fc.oneof(fc.constant(0), fc.constant(-0), fc.double({ noNaN: true }), fc.double({ min: 0, max: 1e12, noNaN: true }));
const time = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
  // The edges of the 6-byte varint range every candle time takes.
  fc.constantFrom(2 ** 35 - 1, 2 ** 35, 2 ** 42 - 1, 2 ** 42),
);
const closedCandle = fc.record({ time, open: price, high: price, low: price, close: price, volume: price, quoteVolume: price, synthetic: fc.boolean() });
const formingCandle = fc.record({
  timeMs: time.map(BigInt),
  open: price,
  high: price,
  low: price,
  close: price,
  volume: price,
  quoteVolume: price,
  synthetic: fc.constant(false),
  closed: fc.constant(false),
});
const meta = fc.record({
  source: fc.constantFrom(Source.UNSPECIFIED, Source.STORE, Source.MIXED),
  upstreamCalls: fc.nat({ max: 1000 }),
  complete: fc.boolean(),
  gaps: fc.array(fc.record({ startMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), endMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), reason: fc.constant(GapReason.FORMING), detail: fc.string() }), { maxLength: 2 }),
});

type Closed = { time: number; open: number; high: number; low: number; close: number; volume: number; quoteVolume: number; synthetic: boolean };

function answerOf(closed: readonly Closed[], withFlags: boolean, forming: CandleInit | undefined): AnswerCandles {
  return {
    columns: columnsFromRows(closed),
    ...(withFlags ? { synthetic: Uint8Array.from(closed.map((c) => (c.synthetic ? 1 : 0))) } : {}),
    ...(forming ? { forming } : {}),
  };
}

/** The same candles as protobuf-es message inits, built without the code under test. */
function initsOf(closed: readonly Closed[], withFlags: boolean, forming: CandleInit | undefined): CandleInit[] {
  const inits = closed.map(({ time: t, synthetic, ...prices }) => ({ timeMs: BigInt(t), ...prices, synthetic: withFlags && synthetic, closed: true }));
  return forming ? [...inits, forming] : inits;
}

describe("encodeCandlesAnswer", () => {
  it("writes exactly the bytes protobuf-es writes for the same GetCandlesResponse, into a fresh or a reused buffer", () => {
    const scratch = new ScratchBuffer();
    fc.assert(
      fc.property(fc.array(closedCandle, { maxLength: 30 }), fc.boolean(), fc.option(formingCandle, { nil: undefined }), meta, fc.boolean(), (closed, withFlags, forming, m, reuse) => {
        const metaMessage = create(ResponseMetaSchema, m);
        const ours = encodeCandlesAnswer({ candles: answerOf(closed, withFlags, forming), meta: metaMessage }, reuse ? scratch : undefined);
        const reference = toBinary(GetCandlesResponseSchema, create(GetCandlesResponseSchema, { candles: initsOf(closed, withFlags, forming), meta: metaMessage }));
        expect(new Uint8Array(ours)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes back to the candles it was given, and candleInits gives the same", () => {
    const closed = [
      { time: 1_700_000_000_000, open: 1.5, high: 2, low: 1, close: 1.75, volume: 0.12345678, quoteVolume: 0.2, synthetic: false },
      { time: 1_700_000_060_000, open: 1.75, high: 1.75, low: 1.75, close: 1.75, volume: 0, quoteVolume: 0, synthetic: true },
    ];
    const forming = { timeMs: 1_700_000_120_000n, open: 1.8, high: 1.9, low: 1.7, close: 1.85, volume: 0.5, quoteVolume: 0.9, synthetic: false, closed: false };
    const answer = answerOf(closed, true, forming);
    const decoded = fromBinary(GetCandlesResponseSchema, encodeCandlesAnswer({ candles: answer, meta: create(ResponseMetaSchema, { complete: true }) }));
    expect(decoded.candles.map(({ $typeName: _t, ...c }) => c)).toEqual(initsOf(closed, true, forming));
    expect(candleInits(answer)).toEqual(initsOf(closed, true, forming));
    expect(decoded.meta?.complete).toBe(true);
  });
});
