import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  addBuckets,
  bucketCeil,
  bucketCount,
  bucketIndex,
  bucketStart,
  bucketTimeOfIndex,
  DAY_MS,
  fixedBucketMs,
  isAligned,
  MINUTE_MS,
  SECOND_MS,
  WEEK_MS,
} from "../../src/shared/time.js";
import { TIMEFRAMES, type Timeframe } from "../../src/shared/timeframe.js";

const iso = (s: string): number => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`bad date ${s}`);
  return t;
};
const show = (t: number): string => new Date(t).toISOString();

/** Independent reference: Upbit's rules written with Date fields rather than bucket indexes. */
function refStart(tf: Timeframe, t: number): number {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const minutes: Partial<Record<Timeframe, number>> = {
    "1m": 1, "3m": 3, "5m": 5, "10m": 10, "15m": 15, "30m": 30, "60m": 60, "240m": 240,
  };
  switch (tf) {
    case "1s":
      return t - (((t % SECOND_MS) + SECOND_MS) % SECOND_MS);
    case "1d":
      return Date.UTC(y, mo, day);
    case "1w": {
      const mondayOffset = (d.getUTCDay() + 6) % 7; // 0 = Monday
      return Date.UTC(y, mo, day) - mondayOffset * DAY_MS;
    }
    case "1mo":
      return Date.UTC(y, mo, 1);
    case "1y":
      return Date.UTC(y, 0, 1);
    default: {
      const len = minutes[tf]! * MINUTE_MS;
      return t - (((t % len) + len) % len);
    }
  }
}

/** Reference for the next bucket's start. */
function refNext(tf: Timeframe, start: number): number {
  const d = new Date(start);
  if (tf === "1mo") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  if (tf === "1y") return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
  return start + fixedBucketMs(tf)!;
}

const T_MIN = Date.UTC(2017, 0, 1);
const T_MAX = Date.UTC(2035, 0, 1);

const tfArb = fc.constantFrom(...TIMEFRAMES);
/** Random times, biased towards bucket boundaries (exact, and one ms either side). */
const timeArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: T_MIN, max: T_MAX }),
  fc
    .tuple(tfArb, fc.integer({ min: T_MIN, max: T_MAX }), fc.constantFrom(-1, 0, 1))
    .map(([tf, t, d]) => refStart(tf, t) + d),
);

describe("fixedBucketMs", () => {
  it("gives lengths for fixed timeframes and undefined for calendar ones", () => {
    expect(fixedBucketMs("1s")).toBe(1_000);
    expect(fixedBucketMs("1m")).toBe(60_000);
    expect(fixedBucketMs("3m")).toBe(180_000);
    expect(fixedBucketMs("5m")).toBe(300_000);
    expect(fixedBucketMs("10m")).toBe(600_000);
    expect(fixedBucketMs("15m")).toBe(900_000);
    expect(fixedBucketMs("30m")).toBe(1_800_000);
    expect(fixedBucketMs("60m")).toBe(3_600_000);
    expect(fixedBucketMs("240m")).toBe(14_400_000);
    expect(fixedBucketMs("1d")).toBe(86_400_000);
    expect(fixedBucketMs("1w")).toBe(WEEK_MS);
    expect(fixedBucketMs("1mo")).toBeUndefined();
    expect(fixedBucketMs("1y")).toBeUndefined();
  });
});

describe("bucketStart examples", () => {
  const t = iso("2026-03-11T14:40:59.095Z");
  const expected: Record<Timeframe, string> = {
    "1s": "2026-03-11T14:40:59.000Z",
    "1m": "2026-03-11T14:40:00.000Z",
    "3m": "2026-03-11T14:39:00.000Z",
    "5m": "2026-03-11T14:40:00.000Z",
    "10m": "2026-03-11T14:40:00.000Z",
    "15m": "2026-03-11T14:30:00.000Z",
    "30m": "2026-03-11T14:30:00.000Z",
    "60m": "2026-03-11T14:00:00.000Z",
    "240m": "2026-03-11T12:00:00.000Z",
    "1d": "2026-03-11T00:00:00.000Z",
    "1w": "2026-03-09T00:00:00.000Z",
    "1mo": "2026-03-01T00:00:00.000Z",
    "1y": "2026-01-01T00:00:00.000Z",
  };
  const next: Record<Timeframe, string> = {
    "1s": "2026-03-11T14:41:00.000Z",
    "1m": "2026-03-11T14:41:00.000Z",
    "3m": "2026-03-11T14:42:00.000Z",
    "5m": "2026-03-11T14:45:00.000Z",
    "10m": "2026-03-11T14:50:00.000Z",
    "15m": "2026-03-11T14:45:00.000Z",
    "30m": "2026-03-11T15:00:00.000Z",
    "60m": "2026-03-11T15:00:00.000Z",
    "240m": "2026-03-11T16:00:00.000Z",
    "1d": "2026-03-12T00:00:00.000Z",
    "1w": "2026-03-16T00:00:00.000Z",
    "1mo": "2026-04-01T00:00:00.000Z",
    "1y": "2027-01-01T00:00:00.000Z",
  };

  for (const tf of TIMEFRAMES) {
    it(`${tf}: 2026-03-11T14:40:59.095Z -> ${expected[tf]}`, () => {
      expect(show(bucketStart(tf, t))).toBe(expected[tf]);
      expect(isAligned(tf, t)).toBe(false);
      expect(isAligned(tf, iso(expected[tf]))).toBe(true);
      expect(show(addBuckets(tf, t, 1))).toBe(next[tf]);
      expect(show(bucketCeil(tf, t))).toBe(next[tf]);
      expect(show(bucketCeil(tf, iso(expected[tf])))).toBe(expected[tf]);
      expect(show(addBuckets(tf, iso(next[tf]), -1))).toBe(expected[tf]);
      expect(bucketCount(tf, iso(expected[tf]), iso(next[tf]))).toBe(1);
      expect(bucketCount(tf, t, iso(next[tf]))).toBe(0);
      expect(bucketCount(tf, iso(expected[tf]), t)).toBe(1);
    });
  }

  it("240m buckets start at 00/04/08/12/16/20 UTC", () => {
    for (let h = 0; h < 24; h++) {
      const t = Date.UTC(2026, 2, 11, h, 17, 3, 5);
      expect(new Date(bucketStart("240m", t)).getUTCHours()).toBe(h - (h % 4));
      expect(isAligned("240m", Date.UTC(2026, 2, 11, h))).toBe(h % 4 === 0);
    }
  });

  it("weeks start on Monday 00:00 UTC", () => {
    // 2026-03-09 is a Monday; every day through Sunday 2026-03-15 maps to it.
    for (let d = 9; d <= 15; d++) {
      expect(show(bucketStart("1w", Date.UTC(2026, 2, d, 23, 59, 59, 999)))).toBe("2026-03-09T00:00:00.000Z");
    }
    expect(show(bucketStart("1w", iso("2026-03-08T23:59:59.999Z")))).toBe("2026-03-02T00:00:00.000Z");
    expect(show(bucketStart("1w", iso("2026-03-16T00:00:00.000Z")))).toBe("2026-03-16T00:00:00.000Z");
    expect(isAligned("1w", iso("2026-03-09T00:00:00.000Z"))).toBe(true);
    expect(isAligned("1w", iso("2026-03-08T00:00:00.000Z"))).toBe(false); // Sunday
    expect(isAligned("1w", iso("2026-03-10T00:00:00.000Z"))).toBe(false); // Tuesday
  });

  it("the bucket boundary belongs to the later bucket (T <= t < T+len)", () => {
    const boundary = iso("2026-03-11T14:45:00.000Z");
    expect(show(bucketStart("15m", boundary))).toBe("2026-03-11T14:45:00.000Z");
    expect(show(bucketStart("15m", boundary - 1))).toBe("2026-03-11T14:30:00.000Z");
    expect(bucketIndex("15m", boundary) - bucketIndex("15m", boundary - 1)).toBe(1);
  });
});

describe("month ends", () => {
  it("leap February 2024 has 29 days", () => {
    expect(show(bucketStart("1mo", iso("2024-02-29T23:59:59.999Z")))).toBe("2024-02-01T00:00:00.000Z");
    expect(show(bucketStart("1mo", iso("2024-03-01T00:00:00.000Z")))).toBe("2024-03-01T00:00:00.000Z");
    expect(show(addBuckets("1mo", iso("2024-02-15T12:00:00.000Z"), 1))).toBe("2024-03-01T00:00:00.000Z");
    expect(show(addBuckets("1d", iso("2024-02-28T12:00:00.000Z"), 1))).toBe("2024-02-29T00:00:00.000Z");
    expect(show(addBuckets("1d", iso("2024-02-29T12:00:00.000Z"), 1))).toBe("2024-03-01T00:00:00.000Z");
    expect(bucketCount("1d", iso("2024-02-01T00:00:00.000Z"), iso("2024-03-01T00:00:00.000Z"))).toBe(29);
  });

  it("non-leap February 2023 and century leap rules", () => {
    expect(show(addBuckets("1d", iso("2023-02-28T12:00:00.000Z"), 1))).toBe("2023-03-01T00:00:00.000Z");
    expect(bucketCount("1d", iso("2023-02-01T00:00:00.000Z"), iso("2023-03-01T00:00:00.000Z"))).toBe(28);
    expect(show(addBuckets("1d", iso("2100-02-28T00:00:00.000Z"), 1))).toBe("2100-03-01T00:00:00.000Z");
    expect(show(addBuckets("1d", iso("2000-02-28T00:00:00.000Z"), 1))).toBe("2000-02-29T00:00:00.000Z");
  });

  it("31-, 30-day months and month stepping", () => {
    expect(show(bucketStart("1mo", iso("2026-01-31T23:59:59.999Z")))).toBe("2026-01-01T00:00:00.000Z");
    expect(show(bucketStart("1mo", iso("2026-04-30T23:59:59.999Z")))).toBe("2026-04-01T00:00:00.000Z");
    expect(show(bucketStart("1mo", iso("2026-05-01T00:00:00.000Z")))).toBe("2026-05-01T00:00:00.000Z");
    expect(show(addBuckets("1mo", iso("2026-01-31T00:00:00.000Z"), 1))).toBe("2026-02-01T00:00:00.000Z");
    expect(show(addBuckets("1mo", iso("2026-03-11T00:00:00.000Z"), -3))).toBe("2025-12-01T00:00:00.000Z");
    expect(show(addBuckets("1mo", iso("2026-03-11T00:00:00.000Z"), 10))).toBe("2027-01-01T00:00:00.000Z");
    expect(bucketCount("1mo", iso("2024-01-01T00:00:00.000Z"), iso("2025-01-01T00:00:00.000Z"))).toBe(12);
    expect(bucketCount("1mo", iso("2024-01-01T00:00:00.001Z"), iso("2025-01-01T00:00:00.001Z"))).toBe(12);
    expect(isAligned("1mo", iso("2026-03-02T00:00:00.000Z"))).toBe(false);
    expect(isAligned("1mo", iso("2026-03-01T00:00:00.001Z"))).toBe(false);
  });
});

describe("year boundaries", () => {
  const lastMs = iso("2025-12-31T23:59:59.999Z");
  const firstMs = iso("2026-01-01T00:00:00.000Z");

  it("last ms of a year vs first ms of the next", () => {
    expect(show(bucketStart("1y", lastMs))).toBe("2025-01-01T00:00:00.000Z");
    expect(show(bucketStart("1y", firstMs))).toBe("2026-01-01T00:00:00.000Z");
    expect(show(bucketStart("1mo", lastMs))).toBe("2025-12-01T00:00:00.000Z");
    expect(show(bucketStart("1d", lastMs))).toBe("2025-12-31T00:00:00.000Z");
    expect(show(bucketStart("240m", lastMs))).toBe("2025-12-31T20:00:00.000Z");
    expect(show(bucketStart("1s", lastMs))).toBe("2025-12-31T23:59:59.000Z");
    // 2025-12-29 is a Monday: the week straddles the year boundary.
    expect(show(bucketStart("1w", lastMs))).toBe("2025-12-29T00:00:00.000Z");
    expect(show(bucketStart("1w", firstMs))).toBe("2025-12-29T00:00:00.000Z");
    for (const tf of TIMEFRAMES) {
      if (tf === "1w") continue;
      // Every other timeframe has a bucket boundary exactly at New Year.
      expect(show(addBuckets(tf, lastMs, 1)), tf).toBe("2026-01-01T00:00:00.000Z");
      expect(isAligned(tf, firstMs), tf).toBe(true);
    }
    expect(show(addBuckets("1w", lastMs, 1))).toBe("2026-01-05T00:00:00.000Z");
    expect(isAligned("1w", firstMs)).toBe(false);
  });

  it("year stepping and counting, including leap years", () => {
    expect(show(addBuckets("1y", iso("2024-02-29T12:00:00.000Z"), 1))).toBe("2025-01-01T00:00:00.000Z");
    expect(show(addBuckets("1y", iso("2026-07-01T00:00:00.000Z"), -9))).toBe("2017-01-01T00:00:00.000Z");
    expect(bucketCount("1y", iso("2017-01-01T00:00:00.000Z"), iso("2035-01-01T00:00:00.000Z"))).toBe(18);
    expect(bucketCount("1y", iso("2017-01-01T00:00:00.001Z"), iso("2035-01-01T00:00:00.001Z"))).toBe(18);
    expect(bucketCount("1d", iso("2024-01-01T00:00:00.000Z"), iso("2025-01-01T00:00:00.000Z"))).toBe(366);
    expect(bucketCount("1d", iso("2025-01-01T00:00:00.000Z"), iso("2026-01-01T00:00:00.000Z"))).toBe(365);
    expect(isAligned("1y", iso("2026-01-01T00:00:00.000Z"))).toBe(true);
    expect(isAligned("1y", iso("2026-02-01T00:00:00.000Z"))).toBe(false);
  });

  it("index/time round trip at known points", () => {
    expect(bucketIndex("1y", iso("1970-06-01T00:00:00.000Z"))).toBe(0);
    expect(bucketIndex("1mo", iso("1971-02-01T00:00:00.000Z"))).toBe(13);
    expect(show(bucketTimeOfIndex("1w", 0))).toBe("1970-01-05T00:00:00.000Z");
    expect(show(bucketTimeOfIndex("1y", 56))).toBe("2026-01-01T00:00:00.000Z");
  });
});

describe("bucketCount edge cases", () => {
  it("is 0 for empty or inverted ranges", () => {
    const t = iso("2026-03-11T14:40:00.000Z");
    for (const tf of TIMEFRAMES) {
      expect(bucketCount(tf, t, t)).toBe(0);
      expect(bucketCount(tf, t + 1, t)).toBe(0);
    }
  });

  it("counts open times in [start, end)", () => {
    const s = iso("2026-03-11T14:40:00.000Z");
    expect(bucketCount("1m", s, s + 1)).toBe(1);
    expect(bucketCount("1m", s + 1, s + MINUTE_MS)).toBe(0);
    expect(bucketCount("1m", s + 1, s + MINUTE_MS + 1)).toBe(1);
    expect(bucketCount("1m", s, s + 60 * MINUTE_MS)).toBe(60);
  });
});

describe("properties (2017..2035, all timeframes)", () => {
  const runs = { numRuns: 300 };

  it("bucketStart matches an independent calendar reference", () => {
    fc.assert(
      fc.property(tfArb, timeArb, (tf, t) => {
        expect(bucketStart(tf, t)).toBe(refStart(tf, t));
        expect(addBuckets(tf, t, 1)).toBe(refNext(tf, refStart(tf, t)));
      }),
      runs,
    );
  });

  it("bucketStart(t) <= t < addBuckets(bucketStart(t), 1)", () => {
    fc.assert(
      fc.property(tfArb, timeArb, (tf, t) => {
        const s = bucketStart(tf, t);
        expect(s).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(addBuckets(tf, s, 1));
      }),
      runs,
    );
  });

  it("bucketStart is idempotent and aligned", () => {
    fc.assert(
      fc.property(tfArb, timeArb, (tf, t) => {
        const s = bucketStart(tf, t);
        expect(bucketStart(tf, s)).toBe(s);
        expect(isAligned(tf, s)).toBe(true);
        expect(isAligned(tf, t)).toBe(s === t);
      }),
      runs,
    );
  });

  it("bucketCeil is the first bucket start >= t", () => {
    fc.assert(
      fc.property(tfArb, timeArb, (tf, t) => {
        const c = bucketCeil(tf, t);
        expect(isAligned(tf, c)).toBe(true);
        expect(c).toBeGreaterThanOrEqual(t);
        expect(addBuckets(tf, c, -1)).toBeLessThan(t);
      }),
      runs,
    );
  });

  it("addBuckets(+n) then (-n) round trips to bucketStart", () => {
    fc.assert(
      fc.property(tfArb, timeArb, fc.integer({ min: -1000, max: 1000 }), (tf, t, n) => {
        const forward = addBuckets(tf, t, n);
        expect(isAligned(tf, forward)).toBe(true);
        expect(addBuckets(tf, forward, -n)).toBe(bucketStart(tf, t));
        expect(bucketIndex(tf, forward) - bucketIndex(tf, t)).toBe(n);
      }),
      runs,
    );
  });

  it("addBuckets composes: (t + a) + b = t + (a + b)", () => {
    fc.assert(
      fc.property(
        tfArb,
        timeArb,
        fc.integer({ min: -300, max: 300 }),
        fc.integer({ min: -300, max: 300 }),
        (tf, t, a, b) => {
          expect(addBuckets(tf, addBuckets(tf, t, a), b)).toBe(addBuckets(tf, t, a + b));
        },
      ),
      runs,
    );
  });

  /** start, and an end up to ~500 buckets later (sometimes aligned, sometimes before start). */
  const rangeArb = fc
    .tuple(tfArb, timeArb, fc.integer({ min: -2, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean())
    .map(([tf, start, k, frac, aligned]) => {
      const base = addBuckets(tf, start, k);
      const width = addBuckets(tf, base, 1) - base;
      const end = aligned ? base : base + Math.floor(frac * width);
      return { tf, start, end };
    });

  it("bucketCount equals the number of addBuckets steps from bucketCeil(start) below end", () => {
    fc.assert(
      fc.property(rangeArb, ({ tf, start, end }) => {
        let steps = 0;
        for (let x = bucketCeil(tf, start); x < end; x = addBuckets(tf, x, 1)) steps++;
        expect(bucketCount(tf, start, end)).toBe(steps);
      }),
      { numRuns: 200 },
    );
  });

  it("bucketCount is additive over a split point", () => {
    fc.assert(
      fc.property(rangeArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), ({ tf, start, end }, f, alignMid) => {
        fc.pre(end >= start);
        let mid = start + Math.floor((end - start) * f);
        if (alignMid) mid = Math.min(end, Math.max(start, bucketStart(tf, mid)));
        expect(bucketCount(tf, start, mid) + bucketCount(tf, mid, end)).toBe(bucketCount(tf, start, end));
      }),
      runs,
    );
  });
});
