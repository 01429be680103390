import type { Timeframe } from "./timeframe.js";

/**
 * Bucket arithmetic in UTC epoch milliseconds, as Upbit defines buckets: seconds and minutes at
 * UTC multiples of their length, days at 00:00 UTC, weeks on Monday 00:00 UTC, months on the 1st
 * and years on January 1st, 00:00 UTC.
 *
 * Every bucket has an index (buckets since the one containing the epoch), so counting, stepping
 * and aligning reduce to converting between times and indexes.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const DAY_MS = 24 * 60 * MINUTE_MS;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05 00:00 UTC, the first Monday after the epoch, is where week buckets are counted from. */
export const FIRST_MONDAY_MS = 4 * DAY_MS;
/** Latest accepted time: 9999-12-31T23:59:59.999Z, so calendar math never leaves Date's range. */
export const MAX_TIME_MS = 253_402_300_799_999;

const FIXED_LENGTH_MS: Readonly<Partial<Record<Timeframe, number>>> = {
  "1s": SECOND_MS,
  "1m": MINUTE_MS,
  "3m": 3 * MINUTE_MS,
  "5m": 5 * MINUTE_MS,
  "10m": 10 * MINUTE_MS,
  "15m": 15 * MINUTE_MS,
  "30m": 30 * MINUTE_MS,
  "60m": 60 * MINUTE_MS,
  "240m": 240 * MINUTE_MS,
  "1d": DAY_MS,
  "1w": WEEK_MS,
};

/** Bucket length for fixed-length timeframes; undefined for months and years. */
export function fixedBucketMs(tf: Timeframe): number | undefined {
  return FIXED_LENGTH_MS[tf];
}

/** Index of the bucket containing `t`. */
export function bucketIndex(tf: Timeframe, t: number): number {
  const len = FIXED_LENGTH_MS[tf];
  if (len !== undefined) {
    const origin = tf === "1w" ? FIRST_MONDAY_MS : 0;
    return Math.floor((t - origin) / len);
  }
  const d = new Date(t);
  const years = d.getUTCFullYear() - 1970;
  return tf === "1y" ? years : years * 12 + d.getUTCMonth();
}

/** Open time of the bucket with index `index`. */
export function bucketTimeOfIndex(tf: Timeframe, index: number): number {
  const len = FIXED_LENGTH_MS[tf];
  if (len !== undefined) return (tf === "1w" ? FIRST_MONDAY_MS : 0) + index * len;
  return tf === "1y" ? Date.UTC(1970 + index, 0, 1) : Date.UTC(1970, index, 1);
}

/** Open time of the bucket containing `t`. */
export function bucketStart(tf: Timeframe, t: number): number {
  return bucketTimeOfIndex(tf, bucketIndex(tf, t));
}

export function isAligned(tf: Timeframe, t: number): boolean {
  return bucketStart(tf, t) === t;
}

/** Open time of the bucket `n` buckets after (negative: before) the one containing `t`. */
export function addBuckets(tf: Timeframe, t: number, n: number): number {
  return bucketTimeOfIndex(tf, bucketIndex(tf, t) + n);
}

/** Open time of the first bucket that starts at or after `t`. */
export function bucketCeil(tf: Timeframe, t: number): number {
  const start = bucketStart(tf, t);
  return start === t ? t : addBuckets(tf, start, 1);
}

/** Number of buckets whose open time lies in `[start, end)`. */
export function bucketCount(tf: Timeframe, start: number, end: number): number {
  if (end <= start) return 0;
  const first = bucketIndex(tf, bucketCeil(tf, start));
  const last = bucketIndex(tf, end - 1);
  return Math.max(0, last - first + 1);
}
