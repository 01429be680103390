import type { Interval } from "../../shared/intervals.js";
import { bucketIndex, bucketTimeOfIndex } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import { MAX_CANDLE_COUNT } from "../upstream/upbit-rest-client.js";

/** A range fetched with one upstream call: `to = end`, `count` = its buckets (at most 200). */
export interface CandleWindow {
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/**
 * Cuts missing intervals into upstream windows on a fixed grid of 200-bucket cells (Upbit's page
 * size), whole cells clipped only at `closedEnd` (the forming bucket). Because the grid does not depend on the request, two
 * requests that miss parts of the same cell plan the same window, which single flight then
 * fetches once; and a whole cell costs the same one call as any part of it.
 */
export function planWindows(tf: Timeframe, missing: readonly Interval[], closedEnd: number): CandleWindow[] {
  const windows: CandleWindow[] = [];
  let lastCell = Number.NEGATIVE_INFINITY;
  for (const gap of missing) {
    const end = Math.min(gap.end, closedEnd);
    if (end <= gap.start) continue;
    const firstCell = Math.floor(bucketIndex(tf, gap.start) / MAX_CANDLE_COUNT);
    const endCell = Math.floor(bucketIndex(tf, end - 1) / MAX_CANDLE_COUNT);
    for (let cell = Math.max(firstCell, lastCell + 1); cell <= endCell; cell++) {
      const first = cell * MAX_CANDLE_COUNT;
      const cellEnd = Math.min(bucketTimeOfIndex(tf, first + MAX_CANDLE_COUNT), closedEnd);
      const count = bucketIndex(tf, cellEnd - 1) - first + 1;
      windows.push({ start: bucketTimeOfIndex(tf, first), end: cellEnd, count });
      lastCell = cell;
    }
  }
  return windows;
}
