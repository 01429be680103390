import { type Interval, normalize } from "../shared/intervals.js";
import type { Timeframe } from "../shared/timeframe.js";

/**
 * Per (market, timeframe), the intervals whose contents are verified complete: inside them a
 * bucket without a stored candle is a bucket without trades. Held in memory (it is small: merged
 * intervals) and persisted by the store in the same transaction as the candles it describes.
 */
export class CoverageIndex {
  private readonly bySeries = new Map<string, readonly Interval[]>();

  /** Normal (sorted, merged) covered intervals; empty when nothing is covered. */
  get(market: string, tf: Timeframe): readonly Interval[] {
    return this.bySeries.get(`${market}|${tf}`) ?? [];
  }

  set(market: string, tf: Timeframe, intervals: readonly Interval[]): void {
    this.bySeries.set(`${market}|${tf}`, normalize(intervals));
  }
}
