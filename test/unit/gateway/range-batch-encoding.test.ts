import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeRangeBatch } from "../../../src/gateway/candles/range-batch-encoding.js";
import { FetchCandleRangeResponseSchema, GapReason, ResponseMetaSchema, Source } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { encodeCandleBatchFields } from "../../../src/shared/candle-batch-wire.js";
import { ScratchBuffer } from "../../../src/shared/scratch-buffer.js";
import { candleBatchFieldsOf, offsetColumnsOf } from "../../support/candles.js";

const price = fc.oneof(fc.constant(0), fc.constant(-0), fc.double({ noNaN: true }), fc.double({ min: 0, max: 1e12, noNaN: true }));
const row = fc.record({ time: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), prices: fc.array(price, { minLength: 6, maxLength: 6 }) });
const counter = fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 40 }));
const progress = fc.record({ bucketsDone: counter, bucketsTotal: counter, marketsDone: fc.nat({ max: 100 }), marketsTotal: fc.nat({ max: 100 }) });
const meta = fc.option(
  fc.record({
    source: fc.constantFrom(Source.UNSPECIFIED, Source.STORE, Source.MIXED),
    upstreamCalls: fc.nat({ max: 1000 }),
    complete: fc.boolean(),
    gaps: fc.array(fc.record({ startMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), endMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), reason: fc.constant(GapReason.FORMING), detail: fc.string() }), { maxLength: 2 }),
  }),
  { nil: undefined },
);

describe("encodeRangeBatch", () => {
  it("writes exactly the bytes protobuf-es writes for the same FetchCandleRangeResponse, from columns or encoded candles", () => {
    const scratch = new ScratchBuffer();
    fc.assert(
      fc.property(fc.string(), fc.array(row, { maxLength: 30 }), progress, meta, (market, rows, p, m) => {
        const metaMessage = m === undefined ? undefined : create(ResponseMetaSchema, m);
        const candles = offsetColumnsOf(rows);
        const ours = encodeRangeBatch({ market, candles, progress: p, ...(metaMessage ? { meta: metaMessage } : {}) });
        const reference = toBinary(
          FetchCandleRangeResponseSchema,
          create(FetchCandleRangeResponseSchema, {
            batch: {
              market,
              ...candleBatchFieldsOf(candles),
              progress: { bucketsDone: BigInt(p.bucketsDone), bucketsTotal: BigInt(p.bucketsTotal), marketsDone: p.marketsDone, marketsTotal: p.marketsTotal },
              ...(metaMessage ? { meta: metaMessage } : {}),
            },
          }),
        );
        expect(new Uint8Array(ours)).toEqual(reference);
        // The daemon's encoded candles are forwarded as they are, into a fresh or a reused buffer.
        const forwarded = { market, candles: encodeCandleBatchFields(candles), progress: p, ...(metaMessage ? { meta: metaMessage } : {}) };
        expect(new Uint8Array(encodeRangeBatch(forwarded))).toEqual(reference);
        expect(new Uint8Array(encodeRangeBatch(forwarded, scratch))).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes back to the columns it was given", () => {
    const candles = offsetColumnsOf([
      { time: 1_700_000_000_000n, prices: [1.5, 2, 1, 1.75, 0.12345678, 0.2] },
      { time: 1_700_000_060_000n, prices: [1.75, 1.75, 1.75, 1.75, 0, 0] },
    ]);
    const progress = { bucketsDone: 2, bucketsTotal: 10, marketsDone: 0, marketsTotal: 1 };
    const decoded = fromBinary(FetchCandleRangeResponseSchema, encodeRangeBatch({ market: "KRW-BTC", candles, progress })).batch!;
    expect(decoded.market).toBe("KRW-BTC");
    expect(decoded.timeMs).toEqual([...candles.time]);
    expect(decoded.quoteVolume).toEqual([0.2, 0]);
    expect(decoded.progress).toMatchObject({ bucketsDone: 2n, bucketsTotal: 10n, marketsTotal: 1 });
    expect(decoded.meta).toBeUndefined();
  });
});
