import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RangeBatcher } from "../../../src/gateway/candles/range-batcher.js";
import { allocateColumns, type CandleColumns, columnsLength } from "../../../src/shared/candle-columns.js";

function numbered(from: number, n: number): CandleColumns {
  const c = allocateColumns(n);
  for (let i = 0; i < n; i++) {
    c.time[i] = BigInt(from + i);
    c.close[i] = from + i;
  }
  return c;
}

describe("RangeBatcher", () => {
  it("re-cuts parts of any size into batches of exactly the batch size, in order, losing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.array(fc.nat({ max: 120 }), { maxLength: 20 }), async (size, parts) => {
        const batches: CandleColumns[] = [];
        const batcher = new RangeBatcher(size, async (c) => void batches.push(c));
        let at = 0;
        for (const n of parts) {
          await batcher.push(numbered(at, n));
          at += n;
        }
        const rest = batcher.take();
        expect(batches.every((b) => columnsLength(b) === size)).toBe(true);
        expect(columnsLength(rest)).toBeLessThan(size);
        const all = [...batches, rest].flatMap((b) => [...b.time].map(Number));
        expect(all).toEqual(Array.from({ length: at }, (_, i) => i));
        expect([...batches, rest].flatMap((b) => [...b.close])).toEqual(all);
      }),
    );
  });

  it("holds back the producer until the consumer took the batch", async () => {
    let release!: () => void;
    let onEmit: () => void = () => undefined;
    const nextEmit = () => new Promise<void>((resolve) => (onEmit = resolve));
    const emitted: number[] = [];
    const batcher = new RangeBatcher(2, (c) => {
      emitted.push(columnsLength(c));
      onEmit();
      return new Promise<void>((resolve) => (release = resolve));
    });
    let pushed = false;
    let emittedOnce = nextEmit();
    const push = batcher.push(numbered(0, 5)).then(() => (pushed = true));
    await emittedOnce;
    expect(emitted).toEqual([2]);
    emittedOnce = nextEmit();
    release();
    await emittedOnce;
    expect(emitted).toEqual([2, 2]);
    expect(pushed).toBe(false);
    release();
    await push;
    expect(columnsLength(batcher.take())).toBe(1);
  });
});
