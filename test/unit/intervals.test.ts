import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  containsRange,
  intersect,
  normalize,
  subtract,
  union,
  type Interval,
} from "../../src/shared/intervals.js";

const iv = (start: number, end: number): Interval => ({ start, end });

describe("normalize examples", () => {
  it("merges overlapping intervals", () => {
    expect(normalize([iv(0, 10), iv(5, 15)])).toEqual([iv(0, 15)]);
    expect(normalize([iv(0, 20), iv(5, 15)])).toEqual([iv(0, 20)]);
  });

  it("merges adjacent intervals: [0,10)+[10,20) = [0,20)", () => {
    expect(normalize([iv(0, 10), iv(10, 20)])).toEqual([iv(0, 20)]);
    expect(normalize([iv(10, 20), iv(0, 10)])).toEqual([iv(0, 20)]);
  });

  it("keeps gaps, sorts", () => {
    expect(normalize([iv(30, 40), iv(0, 10), iv(11, 20)])).toEqual([iv(0, 10), iv(11, 20), iv(30, 40)]);
  });

  it("drops empty and inverted intervals", () => {
    expect(normalize([iv(5, 5), iv(9, 3)])).toEqual([]);
    expect(normalize([iv(0, 10), iv(10, 10), iv(20, 20), iv(25, 21)])).toEqual([iv(0, 10)]);
    // An empty interval between two real ones must not bridge them.
    expect(normalize([iv(0, 10), iv(10, 10), iv(11, 20)])).toEqual([iv(0, 10), iv(11, 20)]);
    expect(normalize([])).toEqual([]);
  });

  it("does not mutate its input", () => {
    const input = [iv(10, 20), iv(0, 10)];
    normalize(input);
    expect(input).toEqual([iv(10, 20), iv(0, 10)]);
  });
});

describe("union examples", () => {
  it("merges across both lists", () => {
    expect(union([iv(0, 10), iv(30, 40)], [iv(10, 20), iv(35, 50)])).toEqual([iv(0, 20), iv(30, 50)]);
    expect(union([], [])).toEqual([]);
    expect(union([iv(0, 1)], [])).toEqual([iv(0, 1)]);
  });
});

describe("subtract examples", () => {
  const covered = [iv(10, 20), iv(30, 40)];
  it("covered exactly at the edges leaves the gap", () => {
    expect(subtract(iv(10, 40), covered)).toEqual([iv(20, 30)]);
  });
  it("range ends where coverage starts: nothing removed", () => {
    expect(subtract(iv(0, 10), covered)).toEqual([iv(0, 10)]);
  });
  it("range starts where coverage ends: nothing removed", () => {
    expect(subtract(iv(40, 50), covered)).toEqual([iv(40, 50)]);
    expect(subtract(iv(20, 30), covered)).toEqual([iv(20, 30)]);
  });
  it("partial overlap at either edge", () => {
    expect(subtract(iv(5, 15), covered)).toEqual([iv(5, 10)]);
    expect(subtract(iv(15, 35), covered)).toEqual([iv(20, 30)]);
    expect(subtract(iv(35, 45), covered)).toEqual([iv(40, 45)]);
    expect(subtract(iv(0, 50), covered)).toEqual([iv(0, 10), iv(20, 30), iv(40, 50)]);
  });
  it("fully covered range and empty inputs", () => {
    expect(subtract(iv(12, 18), covered)).toEqual([]);
    expect(subtract(iv(10, 20), covered)).toEqual([]);
    expect(subtract(iv(0, 50), [])).toEqual([iv(0, 50)]);
    expect(subtract(iv(5, 5), covered)).toEqual([]);
  });
});

describe("intersect examples", () => {
  const covered = [iv(10, 20), iv(30, 40)];
  it("clips to the range", () => {
    expect(intersect(iv(0, 50), covered)).toEqual(covered);
    expect(intersect(iv(15, 35), covered)).toEqual([iv(15, 20), iv(30, 35)]);
    expect(intersect(iv(20, 30), covered)).toEqual([]);
    expect(intersect(iv(0, 10), covered)).toEqual([]);
    expect(intersect(iv(5, 5), covered)).toEqual([]);
  });
});

describe("containsRange examples", () => {
  const covered = [iv(10, 20), iv(30, 40)];
  it("true only inside a single interval", () => {
    expect(containsRange(covered, 10, 20)).toBe(true);
    expect(containsRange(covered, 12, 18)).toBe(true);
    expect(containsRange(covered, 9, 20)).toBe(false);
    expect(containsRange(covered, 10, 21)).toBe(false);
    expect(containsRange(covered, 15, 35)).toBe(false);
    expect(containsRange([], 0, 1)).toBe(false);
  });
});

// ---- brute-force model over integer points in [0, N) ----

const N = 200;
type Model = boolean[];

function toModel(intervals: readonly Interval[]): Model {
  const m: Model = new Array<boolean>(N).fill(false);
  for (const { start, end } of intervals) for (let p = Math.max(0, start); p < Math.min(N, end); p++) m[p] = true;
  return m;
}

function expectNormal(intervals: readonly Interval[]): void {
  for (let i = 0; i < intervals.length; i++) {
    const cur = intervals[i]!;
    expect(cur.start).toBeLessThan(cur.end);
    if (i > 0) expect(intervals[i - 1]!.end).toBeLessThan(cur.start);
  }
}

function expectWithin(intervals: readonly Interval[], range: Interval): void {
  for (const i of intervals) {
    expect(i.start).toBeGreaterThanOrEqual(range.start);
    expect(i.end).toBeLessThanOrEqual(range.end);
  }
}

/** Any interval with endpoints in [0, N], including empty and inverted ones. */
const rawIntervalArb = fc
  .tuple(fc.integer({ min: 0, max: N }), fc.integer({ min: 0, max: N }))
  .map(([start, end]) => iv(start, end));
/** Mostly short intervals, so lists have gaps and touching neighbours. */
const shortIntervalArb = fc
  .tuple(fc.integer({ min: 0, max: N }), fc.integer({ min: -3, max: 25 }))
  .map(([start, len]) => iv(start, Math.min(N, start + len)));
const intervalArb = fc.oneof(rawIntervalArb, shortIntervalArb);
const listArb = fc.array(intervalArb, { maxLength: 12 });
const rangeArb = rawIntervalArb;
const runs = { numRuns: 400 };

describe("properties against a point-set model", () => {
  it("normalize preserves the point set and is normal", () => {
    fc.assert(
      fc.property(listArb, (list) => {
        const n = normalize(list);
        expect(toModel(n)).toEqual(toModel(list));
        expectNormal(n);
        expect(normalize(n)).toEqual(n);
      }),
      runs,
    );
  });

  it("union is set union and is normal", () => {
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        const u = union(a, b);
        const ma = toModel(a);
        const mb = toModel(b);
        expect(toModel(u)).toEqual(ma.map((x, p) => x || mb[p]!));
        expectNormal(u);
      }),
      runs,
    );
  });

  it("subtract(range, normalize(c)) is range minus the set, and normal", () => {
    fc.assert(
      fc.property(rangeArb, listArb, (range, c) => {
        const covered = normalize(c);
        const d = subtract(range, covered);
        const mr = toModel([range]);
        const mc = toModel(covered);
        expect(toModel(d)).toEqual(mr.map((x, p) => x && !mc[p]!));
        expectNormal(d);
        expectWithin(d, range);
      }),
      runs,
    );
  });

  it("intersect(range, normalize(c)) is range ∩ set, and normal", () => {
    fc.assert(
      fc.property(rangeArb, listArb, (range, c) => {
        const covered = normalize(c);
        const x = intersect(range, covered);
        const mr = toModel([range]);
        const mc = toModel(covered);
        expect(toModel(x)).toEqual(mr.map((v, p) => v && mc[p]!));
        expectNormal(x);
        expectWithin(x, range);
      }),
      runs,
    );
  });

  it("subtract and intersect partition the range", () => {
    fc.assert(
      fc.property(rangeArb, listArb, (range, c) => {
        const covered = normalize(c);
        const d = subtract(range, covered);
        const x = intersect(range, covered);
        const md = toModel(d);
        const mx = toModel(x);
        const overlap: number[] = [];
        for (let p = 0; p < N; p++) if (md[p]! && mx[p]!) overlap.push(p);
        expect(overlap).toEqual([]);
        expect(union(d, x)).toEqual(normalize([range]));
        const len = (l: readonly Interval[]) => l.reduce((s, i) => s + (i.end - i.start), 0);
        expect(len(d) + len(x)).toBe(Math.max(0, range.end - range.start));
      }),
      runs,
    );
  });

  it("containsRange matches the model for non-empty ranges", () => {
    fc.assert(
      fc.property(rangeArb, listArb, (range, c) => {
        fc.pre(range.start < range.end);
        const covered = normalize(c);
        const mc = toModel(covered);
        let all = true;
        for (let p = range.start; p < range.end; p++) all &&= mc[p]!;
        expect(containsRange(covered, range.start, range.end)).toBe(all);
      }),
      runs,
    );
  });
});
