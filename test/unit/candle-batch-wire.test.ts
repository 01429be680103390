import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CandleBatchSchema } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { decodeCandleBatchFields, encodeCandleBatchFields, partLastTime } from "../../src/shared/candle-batch-wire.js";
import { allocateColumns, type CandleColumns, PRICE_COLUMNS } from "../../src/shared/candle-columns.js";
import { candleBatchFieldsOf } from "../support/candles.js";

/** Around the edges of the 6-byte varint range [2^35, 2^42) that the unrolled writer covers. */
const edgeTime = fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 35n - 1n, 2n ** 35n, 2n ** 42n - 1n, 2n ** 42n, 2n ** 53n - 1n);
const candleTime = fc.bigInt({ min: 1_483_228_800_000n, max: 4_102_444_800_000n });
const anyTime = fc.oneof(candleTime, edgeTime, fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }));

function columnsOf(times: readonly bigint[], price: (i: number, k: number) => number): CandleColumns {
  const c = allocateColumns(times.length);
  times.forEach((t, i) => {
    c.time[i] = t;
    PRICE_COLUMNS.forEach((name, k) => (c[name][i] = price(i, k)));
  });
  return c;
}

function reference(c: CandleColumns): Uint8Array {
  return toBinary(CandleBatchSchema, create(CandleBatchSchema, candleBatchFieldsOf(c)));
}

describe("CandleBatch fields 2-8", () => {
  it("are written as protobuf-es writes them, for candle times (the unrolled path) and any other non-negative times", () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(candleTime, { maxLength: 50 }), fc.array(anyTime, { maxLength: 50 })), fc.double(), (times, seed) => {
        const c = columnsOf(times, (i, k) => seed * (i + 1) + k);
        const encoded = encodeCandleBatchFields(c);
        expect(new Uint8Array(encoded.bytes)).toEqual(reference(c));
        expect(encoded.count).toBe(times.length);
        expect(partLastTime(encoded)).toBe(times.length > 0 ? Number(times.at(-1)) : undefined);
      }),
      { numRuns: 500 },
    );
  });

  it("decode back to the columns they were written from", () => {
    fc.assert(
      fc.property(fc.array(anyTime, { maxLength: 50 }), (times) => {
        const c = columnsOf(times, (i, k) => i * 0.1 - k);
        expect(decodeCandleBatchFields(encodeCandleBatchFields(c))).toEqual(c);
      }),
    );
  });

  it("refuse bytes that are not what the writer writes with a RangeError, never anything else", () => {
    const valid = encodeCandleBatchFields(columnsOf([1_700_000_000_000n, 1_700_000_060_000n], (i, k) => i + k));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat({ max: 4 }), fc.nat({ max: 200 }), fc.integer({ min: 0, max: 255 }), (noise, count, at, byte) => {
        const mutated = new Uint8Array(valid.bytes);
        if (at < mutated.length) mutated[at] = byte;
        for (const bytes of [noise, mutated]) {
          try {
            const c = decodeCandleBatchFields({ count, lastTimeMs: 0, bytes });
            expect(c.time.length).toBe(count);
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
          }
        }
      }),
      { numRuns: 3000 },
    );
    expect(() => decodeCandleBatchFields({ ...valid, count: 3 })).toThrow(RangeError);
  });
});
