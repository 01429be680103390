import { describe, expect, it } from "vitest";
import { rowsFromColumns } from "../../src/shared/candle-columns.js";
import { MAX_TAIL_SERIES, SeriesTailCache, TAIL_ROWS } from "../../src/storage-daemon/series-tail-cache.js";
import { makeCandles, MINUTE, T0 } from "../support/candles.js";

const times = (c: ReturnType<typeof makeCandles> | undefined) => (c ? rowsFromColumns(c).map((r) => (r.time - T0) / MINUTE) : undefined);

describe("series tail cache", () => {
  it("answers the last n before end when it holds n of them, or everything from start", () => {
    const tail = { start: T0 + 10 * MINUTE, rows: makeCandles(T0 + 10 * MINUTE, 20) };
    expect(times(SeriesTailCache.lastN(tail, 0, T0 + 100 * MINUTE, 3))).toEqual([27, 28, 29]);
    expect(times(SeriesTailCache.lastN(tail, 0, T0 + 15 * MINUTE, 3))).toEqual([12, 13, 14]);
    // Only 5 candles in the tail before end, and older ones may exist in the store: no answer.
    expect(SeriesTailCache.lastN(tail, 0, T0 + 15 * MINUTE, 6)).toBeUndefined();
    // Asked range starts inside the tail: the tail has all there is.
    expect(times(SeriesTailCache.lastN(tail, T0 + 12 * MINUTE, T0 + 15 * MINUTE, 6))).toEqual([12, 13, 14]);
    const whole = { start: -Infinity, rows: makeCandles(T0, 4) };
    expect(times(SeriesTailCache.lastN(whole, 0, T0 + 100 * MINUTE, 10))).toEqual([0, 1, 2, 3]);
  });

  it("merges writes: new times added, equal times replaced, older than the tail ignored", () => {
    const cache = new SeriesTailCache();
    cache.set(1, { start: T0 + 10 * MINUTE, rows: makeCandles(T0 + 10 * MINUTE, 5, MINUTE, 1) });
    const write = makeCandles(T0 + 8 * MINUTE, 10, MINUTE, 2); // 8..17
    cache.apply(1, write);
    const tail = cache.get(1)!;
    expect(tail.start).toBe(T0 + 10 * MINUTE);
    expect(times(tail.rows)).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
    expect(rowsFromColumns(tail.rows)[0]).toEqual(rowsFromColumns(write)[2]);
  });

  it("drops rows that retention deleted, and knows when it then holds the whole series", () => {
    const cache = new SeriesTailCache();
    cache.set(1, { start: T0 + 10 * MINUTE, rows: makeCandles(T0 + 10 * MINUTE, 10) }); // 10..19
    // Cut before the tail: rows in [5, 10) may still be stored, so the tail cannot answer for them.
    cache.dropBefore(1, T0 + 5 * MINUTE);
    expect(cache.get(1)!.start).toBe(T0 + 10 * MINUTE);
    expect(times(cache.get(1)!.rows)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(SeriesTailCache.lastN(cache.get(1)!, 0, Infinity, 100)).toBeUndefined();
    // Cut inside the tail: everything older is gone from the store, so the tail is the whole series.
    cache.dropBefore(1, T0 + 15 * MINUTE);
    expect(cache.get(1)!.start).toBe(-Infinity);
    expect(times(cache.get(1)!.rows)).toEqual([15, 16, 17, 18, 19]);
    expect(times(SeriesTailCache.lastN(cache.get(1)!, 0, Infinity, 100))).toEqual([15, 16, 17, 18, 19]);
    cache.dropBefore(1, T0 + 30 * MINUTE);
    expect(cache.get(1)!.rows.time.length).toBe(0);
    cache.dropBefore(4, T0); // no tail: nothing to do
    expect(cache.get(4)).toBeUndefined();
  });

  it("stays bounded: trims to TAIL_ROWS past twice that, and keeps MAX_TAIL_SERIES series", () => {
    const cache = new SeriesTailCache();
    cache.set(1, { start: -Infinity, rows: makeCandles(T0, 10) });
    for (let i = 0; i < 5; i++) cache.apply(1, makeCandles(T0 + (10 + i * TAIL_ROWS) * MINUTE, TAIL_ROWS));
    const tail = cache.get(1)!;
    expect(tail.rows.time.length).toBeLessThanOrEqual(2 * TAIL_ROWS);
    expect(tail.rows.time.length).toBeGreaterThanOrEqual(TAIL_ROWS);
    const last = 10 + 5 * TAIL_ROWS - 1;
    expect(times(SeriesTailCache.lastN(tail, 0, Infinity, 2))).toEqual([last - 1, last]);
    expect(tail.start).toBe(Number(tail.rows.time[0]));

    for (let s = 2; s < MAX_TAIL_SERIES + 10; s++) cache.set(s, { start: -Infinity, rows: makeCandles(T0, 1) });
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(MAX_TAIL_SERIES + 9)).toBeDefined();
  });
});
