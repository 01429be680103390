import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HotCandleCache } from "../../../src/gateway/candles/hot-candle-cache.js";
import { allocateColumns, type CandleColumns } from "../../../src/shared/candle-columns.js";

const MINUTE = 60_000;
/** On the cell grid (200 minutes from the epoch), so the cells below are [T0 + 200k, T0 + 200(k+1)) minutes. */
const T0 = Math.floor(Date.UTC(2024, 0, 1) / (200 * MINUTE)) * 200 * MINUTE;
/** 2,000 minutes (10 cells) of a series where some minutes have no candle. */
const BUCKETS = 2_000;

function storedRows(present: readonly boolean[], start: number, end: number, versions: readonly number[] = []): CandleColumns {
  const times: number[] = [];
  for (let i = 0; i < BUCKETS; i++) {
    const t = T0 + i * MINUTE;
    if (present[i] && t >= start && t < end) times.push(t);
  }
  const c = allocateColumns(times.length);
  times.forEach((t, i) => {
    c.time[i] = BigInt(t);
    c.close[i] = t / MINUTE + 0.5 * (versions[(t - T0) / MINUTE] ?? 0);
  });
  return c;
}

const times = (c: CandleColumns): number[] => [...c.time].map(Number);
const range = fc.tuple(fc.nat({ max: BUCKETS }), fc.nat({ max: BUCKETS })).filter(([a, b]) => a !== b).map(([a, b]) => [T0 + Math.min(a, b) * MINUTE, T0 + Math.max(a, b) * MINUTE] as const);
const op = fc.oneof(
  fc.record({ kind: fc.constant("put" as const), range }),
  fc.record({ kind: fc.constant("range" as const), range }),
  fc.record({ kind: fc.constant("latest" as const), range, n: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ kind: fc.constant("write" as const), range }),
);

describe("HotCandleCache", () => {
  it("answers only what the store holds, and only for ranges it learnt whole since the last write there", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: BUCKETS, maxLength: BUCKETS }), fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 3_000 }), (present, ops, maxRows) => {
        const cache = new HotCandleCache(maxRows);
        // Per bucket: how often the store's row there was rewritten.
        const versions = new Array<number>(BUCKETS).fill(0);
        for (const o of ops) {
          const [start, end] = o.range;
          if (o.kind === "put") cache.put("KRW-BTC", "1m", start, end, storedRows(present, start, end, versions));
          else if (o.kind === "write") {
            // The store changes there: what was learnt before must not be served.
            cache.invalidate("KRW-BTC", "1m", start, end);
            for (let i = (start - T0) / MINUTE; i < (end - T0) / MINUTE; i++) versions[i]!++;
          } else if (o.kind === "range") {
            const got = cache.range("KRW-BTC", "1m", start, end);
            if (got) {
              expect(times(got)).toEqual(times(storedRows(present, start, end)));
              expect([...got.close]).toEqual([...storedRows(present, start, end, versions).close]);
            }
          } else {
            const got = cache.latest("KRW-BTC", "1m", start, end, o.n);
            if (got) expect(times(got)).toEqual(times(storedRows(present, start, end)).slice(-o.n));
          }
          expect(cache.size).toBeLessThanOrEqual(Math.max(maxRows, 0));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("serves a range learnt in pieces, and the newest n across cells", () => {
    const present = Array.from({ length: BUCKETS }, (_, i) => i % 3 !== 0);
    const cache = new HotCandleCache();
    const at = (i: number) => T0 + i * MINUTE;
    cache.put("KRW-BTC", "1m", at(150), at(700), storedRows(present, at(150), at(700)));
    cache.put("KRW-BTC", "1m", at(700), at(900), storedRows(present, at(700), at(900)));
    expect(times(cache.range("KRW-BTC", "1m", at(150), at(900))!)).toEqual(times(storedRows(present, at(150), at(900))));
    expect(times(cache.latest("KRW-BTC", "1m", at(150), at(900), 500)!)).toEqual(times(storedRows(present, at(150), at(900))).slice(-500));
    // Fewer than n after 150, and what lies before 150 was never learnt.
    expect(cache.latest("KRW-BTC", "1m", at(100), at(900), 600)).toBeUndefined();
    expect(cache.range("KRW-BTC", "1m", at(149), at(900))).toBeUndefined();
    expect(cache.range("KRW-ETH", "1m", at(150), at(900))).toBeUndefined();
    cache.invalidate("KRW-BTC", "1m", at(650), at(651));
    expect(cache.range("KRW-BTC", "1m", at(150), at(900))).toBeUndefined();
    expect(cache.range("KRW-BTC", "1m", at(150), at(600))).toBeDefined();
  });
});
