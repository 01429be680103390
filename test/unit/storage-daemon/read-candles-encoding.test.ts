import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CandleBatchSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { ReadCandlesResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { encodeReadBatch } from "../../../src/storage-daemon/read-candles-encoding.js";
import { columnsToWire } from "../../../src/shared/candle-columns-wire.js";
import { ScratchBuffer } from "../../../src/shared/scratch-buffer.js";
import { candleBatchFieldsOf, offsetColumnsOf } from "../../support/candles.js";

const row = fc.record({
  time: fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }), fc.bigInt({ min: 1_483_228_800_000n, max: 4_102_444_800_000n })),
  prices: fc.array(fc.double(), { minLength: 6, maxLength: 6 }),
});

describe("encodeReadBatch", () => {
  it("writes exactly the bytes protobuf-es writes for the same ReadCandlesResponse, in either layout, into a fresh or a reused buffer", () => {
    const scratch = new ScratchBuffer();
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.boolean(), fc.boolean(), (rows, asCandleBatch, reuse) => {
        const candles = offsetColumnsOf(rows);
        const n = rows.length;
        const last = n > 0 ? candles.time[n - 1]! : 0n;
        const batchFields = toBinary(CandleBatchSchema, create(CandleBatchSchema, candleBatchFieldsOf(candles)));
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
