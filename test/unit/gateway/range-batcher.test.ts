import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RangeBatcher } from "../../../src/gateway/candles/range-batcher.js";
import { type CandlePart, decodeCandleBatchFields, encodeCandleBatchFields, isEncoded } from "../../../src/shared/candle-batch-wire.js";
import { allocateColumns, type CandleColumns, columnsLength } from "../../../src/shared/candle-columns.js";

const T0 = 1_700_000_000_000;

/** Candles `from` .. `from + n - 1`: time T0 + k, close k. */
function numbered(from: number, n: number): CandleColumns {
  const c = allocateColumns(n);
  for (let i = 0; i < n; i++) {
    c.time[i] = BigInt(T0 + from + i);
    c.close[i] = from + i;
  }
  return c;
}

const columns = (p: CandlePart) => (isEncoded(p) ? decodeCandleBatchFields(p) : p);
const partLength = (p: CandlePart) => (isEncoded(p) ? p.count : columnsLength(p));

describe("RangeBatcher", () => {
  it("re-cuts parts of any size into batches of exactly the batch size, in order, losing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.array(fc.nat({ max: 120 }), { maxLength: 20 }), async (size, parts) => {
        const batches: CandleColumns[] = [];
        const batcher = new RangeBatcher(size, async (c) => void batches.push(columns(c)));
        let at = 0;
        for (const n of parts) {
          await batcher.push(numbered(at, n));
          at += n;
        }
        const rest = columns(batcher.take());
        expect(batches.every((b) => columnsLength(b) === size)).toBe(true);
        expect(columnsLength(rest)).toBeLessThan(size);
        const all = [...batches, rest].flatMap((b) => [...b.time].map((t) => Number(t) - T0));
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
      emitted.push(partLength(c));
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
    expect(partLength(batcher.take())).toBe(1);
  });

  it("mixes encoded parts (the daemon's) and columns in any sizes, re-cutting without loss", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ n: fc.nat({ max: 90 }), encoded: fc.boolean() }), { maxLength: 20 }),
        async (size, parts) => {
          const batches: CandleColumns[] = [];
          const batcher = new RangeBatcher(size, async (c) => void batches.push(columns(c)));
          let at = 0;
          for (const { n, encoded } of parts) {
            await batcher.push(encoded ? encodeCandleBatchFields(numbered(at, n)) : numbered(at, n));
            at += n;
          }
          const rest = columns(batcher.take());
          expect(batches.every((b) => columnsLength(b) === size)).toBe(true);
          const all = [...batches, rest].flatMap((b) => [...b.time].map((t) => Number(t) - T0));
          expect(all).toEqual(Array.from({ length: at }, (_, i) => i));
          expect([...batches, rest].flatMap((b) => [...b.close])).toEqual(all);
        },
      ),
    );
  });

  it("forwards encoded parts that fill a batch as they are, after topping up a partial batch", async () => {
    const emitted: CandlePart[] = [];
    const batcher = new RangeBatcher(4, async (c) => void emitted.push(c));
    await batcher.push(numbered(0, 3));
    expect(batcher.room).toBe(1);
    // What the daemon sends when asked for a first batch of `room`, then batches of 4.
    const parts = [encodeCandleBatchFields(numbered(3, 1)), encodeCandleBatchFields(numbered(4, 4)), encodeCandleBatchFields(numbered(8, 4))];
    for (const p of parts) await batcher.push(p);
    const last = encodeCandleBatchFields(numbered(12, 2));
    await batcher.push(last);
    expect(emitted.map(partLength)).toEqual([4, 4, 4]);
    expect(isEncoded(emitted[0]!)).toBe(false);
    expect(emitted[1]).toBe(parts[1]);
    expect(emitted[2]).toBe(parts[2]);
    expect(batcher.take()).toBe(last);
  });
});
