import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CandleBatchSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { ReadCandlesResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { encodeReadBatch } from "../../../src/storage-daemon/read-candles-encoding.js";
import { allocateColumns, PRICE_COLUMNS, sliceColumns } from "../../../src/shared/candle-columns.js";
import { columnsToWire } from "../../../src/shared/candle-columns-wire.js";
import { ScratchBuffer } from "../../../src/shared/scratch-buffer.js";

const row = fc.record({
  time: fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }), fc.bigInt({ min: 1_483_228_800_000n, max: 4_102_444_800_000n })),
  prices: fc.array(fc.double(), { minLength: 6, maxLength: 6 }),
});

/** Columns of `rows` as a view at an offset of larger ones, as the store's batches can be. */
function columnsOf(rows: readonly { time: bigint; prices: number[] }[]) {
  const c = allocateColumns(rows.length + 2);
  rows.forEach((r, i) => {
    c.time[i + 1] = r.time;
    PRICE_COLUMNS.forEach((name, k) => (c[name][i + 1] = r.prices[k]!));
  });
  return sliceColumns(c, 1, rows.length + 1);
}

describe("encodeReadBatch", () => {
  it("writes exactly the bytes protobuf-es writes for the same ReadCandlesResponse, in either layout, into a fresh or a reused buffer", () => {
    const scratch = new ScratchBuffer();
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.boolean(), fc.boolean(), (rows, asCandleBatch, reuse) => {
        const candles = columnsOf(rows);
        const n = rows.length;
        const last = n > 0 ? candles.time[n - 1]! : 0n;
        const batchFields = toBinary(
          CandleBatchSchema,
          create(CandleBatchSchema, {
            timeMs: [...candles.time],
            open: [...candles.open],
            high: [...candles.high],
            low: [...candles.low],
            close: [...candles.close],
            volume: [...candles.volume],
            quoteVolume: [...candles.quoteVolume],
          }),
        );
        const reference = toBinary(
          ReadCandlesResponseSchema,
          create(ReadCandlesResponseSchema, {
            ...(asCandleBatch ? { candleBatch: batchFields } : { candles: columnsToWire(candles) }),
            count: n,
            lastTimeMs: last,
          }),
        );
        const ours = encodeReadBatch({ candles, asCandleBatch }, reuse ? scratch : undefined);
        expect(new Uint8Array(ours)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });
});
