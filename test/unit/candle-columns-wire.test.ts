import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CandleColumnsSchema } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { columnsFromRows, rowsFromColumns } from "../../src/shared/candle-columns.js";
import { columnsFromWire, columnsToWire } from "../../src/shared/candle-columns-wire.js";
import { InvalidArgumentError } from "../../src/shared/errors.js";

const row = fc.record({
  time: fc.integer({ min: 0, max: 2 ** 45 }),
  open: fc.double(),
  high: fc.double(),
  low: fc.double(),
  close: fc.double(),
  volume: fc.double(),
  quoteVolume: fc.double(),
});

describe("candle columns on the wire", () => {
  it("round-trips any values, wherever the bytes sit in their buffer", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 50 }), fc.integer({ min: 0, max: 15 }), (rows, shift) => {
        const wire = columnsToWire(columnsFromRows(rows));
        // Decoded bytes are views at arbitrary offsets of a larger buffer.
        const shifted = create(CandleColumnsSchema, {});
        for (const key of ["timeMs", "open", "high", "low", "close", "volume", "quoteVolume"] as const) {
          const host = new Uint8Array(wire[key].byteLength + shift);
          host.set(wire[key], shift);
          shifted[key] = host.subarray(shift);
        }
        expect(rowsFromColumns(columnsFromWire(shifted, "c"))).toEqual(rows);
      }),
    );
  });

  it("refuses any column that is not whole 8-byte values of the same count, naming it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 7, maxLength: 7 }), (lengths) => {
        const [time, ...prices] = lengths as [number, ...number[]];
        const w = create(CandleColumnsSchema, {
          timeMs: new Uint8Array(time),
          open: new Uint8Array(prices[0]!),
          high: new Uint8Array(prices[1]!),
          low: new Uint8Array(prices[2]!),
          close: new Uint8Array(prices[3]!),
          volume: new Uint8Array(prices[4]!),
          quoteVolume: new Uint8Array(prices[5]!),
        });
        const valid = time % 8 === 0 && prices.every((p) => p === time);
        try {
          const c = columnsFromWire(w, "segments[0].candles");
          expect(valid).toBe(true);
          expect(c.time.length).toBe(time / 8);
        } catch (e) {
          expect(valid).toBe(false);
          expect(e).toBeInstanceOf(InvalidArgumentError);
          expect((e as InvalidArgumentError).field).toMatch(/^segments\[0\]\.candles\.(time_ms|open|high|low|close|volume|quote_volume)$/);
        }
      }),
    );
  });

  it("treats a missing message as zero candles", () => {
    expect(columnsFromWire(undefined, "c").time.length).toBe(0);
  });
});
