import { describe, expect, it } from "vitest";
import { sliceColumns } from "../../../src/shared/candle-columns.js";
import { BatchPool } from "../../../src/storage-daemon/batch-pool.js";

describe("BatchPool", () => {
  it("lends a set given back again, for the same size only", () => {
    const pool = new BatchPool();
    const a = pool.take(100);
    expect(a.time.length).toBe(100);
    pool.giveBack(a);
    expect(pool.take(50)).not.toBe(a);
    expect(pool.take(100)).toBe(a);
    expect(pool.take(100)).not.toBe(a);
  });

  it("never reuses what it did not lend: a slice of a lent set, a set given back twice, another set", () => {
    const pool = new BatchPool();
    const a = pool.take(10);
    pool.giveBack(sliceColumns(a, 0, 10));
    expect(pool.take(10)).not.toBe(a);
    pool.giveBack(a);
    pool.giveBack(a);
    expect(pool.take(10)).toBe(a);
    expect(pool.take(10)).not.toBe(a);
  });

  it("keeps at most maxSpare sets", () => {
    const pool = new BatchPool(2);
    const lent = [pool.take(10), pool.take(10), pool.take(10)];
    for (const c of lent) pool.giveBack(c);
    const again = [pool.take(10), pool.take(10), pool.take(10)];
    expect(again.filter((c) => lent.includes(c))).toHaveLength(2);
  });
});
