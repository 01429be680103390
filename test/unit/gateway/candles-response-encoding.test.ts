import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCandlesAnswer } from "../../../src/gateway/candles/candles-response-encoding.js";
import { GapReason, GetCandlesResponseSchema, ResponseMetaSchema, Source } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

const price = fc.oneof(fc.constant(0), fc.constant(-0), fc.double({ noNaN: true }), fc.double({ min: 0, max: 1e12, noNaN: true }));
const candle = fc.record({
  timeMs: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 53n - 1n })),
  open: price,
  high: price,
  low: price,
  close: price,
  volume: price,
  quoteVolume: price,
  synthetic: fc.boolean(),
  closed: fc.boolean(),
});
const meta = fc.record({
  source: fc.constantFrom(Source.UNSPECIFIED, Source.STORE, Source.MIXED),
  upstreamCalls: fc.nat({ max: 1000 }),
  complete: fc.boolean(),
  gaps: fc.array(fc.record({ startMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), endMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), reason: fc.constant(GapReason.FORMING), detail: fc.string() }), { maxLength: 2 }),
});

describe("encodeCandlesAnswer", () => {
  it("writes exactly the bytes protobuf-es writes for the same GetCandlesResponse", () => {
    fc.assert(
      fc.property(fc.array(candle, { maxLength: 30 }), meta, (candles, m) => {
        const metaMessage = create(ResponseMetaSchema, m);
        const ours = encodeCandlesAnswer({ candles, meta: metaMessage });
        const reference = toBinary(GetCandlesResponseSchema, create(GetCandlesResponseSchema, { candles, meta: metaMessage }));
        expect(new Uint8Array(ours)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes back to the candles it was given", () => {
    const candles = [
      { timeMs: 1_700_000_000_000n, open: 1.5, high: 2, low: 1, close: 1.75, volume: 0.12345678, quoteVolume: 0.2, synthetic: false, closed: true },
      { timeMs: 1_700_000_060_000n, open: 1.75, high: 1.75, low: 1.75, close: 1.75, volume: 0, quoteVolume: 0, synthetic: true, closed: false },
    ];
    const decoded = fromBinary(GetCandlesResponseSchema, encodeCandlesAnswer({ candles, meta: create(ResponseMetaSchema, { complete: true }) }));
    expect(decoded.candles.map(({ $typeName: _t, ...c }) => c)).toEqual(candles);
    expect(decoded.meta?.complete).toBe(true);
  });
});
