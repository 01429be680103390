import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateColumns, columnsWithin } from "../../src/shared/candle-columns.js";

describe("columnsWithin", () => {
  it("is the rows with open time in [start, end), as a plain filter finds them", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }).map((a) => a.sort((x, y) => x - y)),
        fc.integer({ min: -10, max: 10_010 }),
        fc.integer({ min: -10, max: 10_010 }),
        (times, start, end) => {
          const c = allocateColumns(times.length);
          times.forEach((t, i) => {
            c.time[i] = BigInt(t);
            c.close[i] = t;
          });
          const within = columnsWithin(c, start, end);
          const expected = times.filter((t) => t >= start && t < end);
          expect([...within.time].map(Number)).toEqual(expected);
          expect([...within.close]).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
