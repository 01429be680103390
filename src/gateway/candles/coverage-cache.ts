import { containsRange, type Interval, union } from "../../shared/intervals.js";
import type { Timeframe } from "../../shared/timeframe.js";

/** Series whose coverage is remembered; the least recently used beyond this are forgotten. */
const MAX_SERIES = 10_000;

/**
 * What the gateway has learnt of the store's coverage index: intervals the daemon reported
 * covered, and those the gateway itself wrote. Coverage only ever grows (nothing un-verifies a
 * bucket), so a remembered interval stays true, and a request inside it needs no GetMissing call:
 * a warm read then costs one daemon round trip instead of two.
 */
export class CoverageCache {
  private readonly series = new Map<string, Interval[]>();

  constructor(private readonly maxSeries = MAX_SERIES) {}

  /** True when `[start, end)` is known to be covered. */
  covers(market: string, tf: Timeframe, start: number, end: number): boolean {
    const key = `${market}|${tf}`;
    const known = this.series.get(key);
    if (!known) return false;
    this.series.delete(key);
    this.series.set(key, known);
    return containsRange(known, start, end);
  }

  learn(market: string, tf: Timeframe, covered: readonly Interval[]): void {
    if (covered.length === 0) return;
    const key = `${market}|${tf}`;
    const merged = union(this.series.get(key) ?? [], covered);
    this.series.delete(key);
    this.series.set(key, merged);
    if (this.series.size > this.maxSeries) this.series.delete(this.series.keys().next().value!);
  }
}
