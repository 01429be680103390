import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ReadCandlesResponse, ReadCandlesResponseSchema } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { decodeReadCandlesResponse } from "../../src/shared/read-candles-decoding.js";

const column = fc.uint8Array({ maxLength: 200 });
const COLUMNS = ["timeMs", "open", "high", "low", "close", "volume", "quoteVolume"] as const;

function plain(m: ReadCandlesResponse): unknown {
  return {
    count: m.count,
    candles: m.candles ? Object.fromEntries(COLUMNS.map((k) => [k, [...m.candles![k]]])) : undefined,
    candleBatch: [...m.candleBatch],
    lastTimeMs: m.lastTimeMs,
  };
}

describe("decodeReadCandlesResponse", () => {
  it("decodes what protobuf-es encodes, to what protobuf-es decodes, each column aligned in memory of its own (candle_batch: a view)", () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ timeMs: column, open: column, high: column, low: column, close: column, volume: column, quoteVolume: column }), { nil: undefined }),
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 7 }),
        column,
        fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
        (candles, count, offset, candleBatch, lastTimeMs) => {
          const wire = toBinary(ReadCandlesResponseSchema, create(ReadCandlesResponseSchema, { ...(candles ? { candles } : {}), count, candleBatch, lastTimeMs }));
          // As grpc-js hands it over: a view at any offset of a larger buffer.
          const buffer = Buffer.alloc(wire.length + offset);
          buffer.set(wire, offset);
          const ours = decodeReadCandlesResponse(buffer.subarray(offset));
          expect(plain(ours)).toEqual(plain(fromBinary(ReadCandlesResponseSchema, wire)));
          for (const k of COLUMNS) if (ours.candles) expect(ours.candles[k].byteOffset % 8).toBe(0);
          buffer.fill(0xee);
          if (candles) expect([...ours.candles!.open]).toEqual([...candles.open]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never fails on arbitrary bytes with anything but a RangeError (the daemon's answer is decoded, never trusted blindly)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeReadCandlesResponse(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
