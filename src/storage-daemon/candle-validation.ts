import type { CandleColumns } from "../shared/candle-columns.js";
import { InvalidArgumentError } from "../shared/errors.js";
import { type Interval, normalize } from "../shared/intervals.js";
import { bucketStart, fixedBucketMs, isAligned, MAX_TIME_MS } from "../shared/time.js";
import type { Timeframe } from "../shared/timeframe.js";

/** Candles of one market and timeframe plus the intervals they are the complete truth of. */
export interface CandleSegment {
  readonly market: string;
  readonly timeframe: Timeframe;
  readonly candles: CandleColumns;
  /** Normal (sorted, merged) intervals verified by these candles. */
  readonly verified: readonly Interval[];
}

/**
 * Checks everything the store relies on, so that a bad batch is refused whole before any of it
 * is written: INVALID_ARGUMENT naming the field, the index and the value.
 *
 * `nowMs` decides which bucket is still forming: it and anything later is never stored.
 */
export function validateSegment(seg: CandleSegment, field: string, nowMs: number): void {
  const { timeframe: tf, candles: c } = seg;
  const formingStart = bucketStart(tf, nowMs);
  const verified = normalize(seg.verified);
  // Verified intervals may start at the bucket holding the epoch ("since the market began"),
  // which for weeks lies a few days before 1970.
  const earliest = bucketStart(tf, 0);
  seg.verified.forEach((iv, i) => {
    const at = `${field}.verified[${i}]`;
    if (!(iv.start < iv.end)) {
      throw new InvalidArgumentError(at, `[${iv.start}, ${iv.end})`, "is empty: start_ms must be < end_ms");
    }
    if (iv.start < earliest || !isAligned(tf, iv.start)) {
      throw new InvalidArgumentError(`${at}.start_ms`, String(iv.start), `is not a ${tf} bucket boundary`);
    }
    if (iv.end > MAX_TIME_MS || !isAligned(tf, iv.end)) {
      throw new InvalidArgumentError(`${at}.end_ms`, String(iv.end), `is not a ${tf} bucket boundary`);
    }
    if (iv.end > formingStart) {
      throw new InvalidArgumentError(
        `${at}.end_ms`,
        String(iv.end),
        `reaches into the ${tf} bucket still forming (starts ${formingStart}); only closed buckets can be verified`,
      );
    }
  });

  const len = fixedBucketMs(tf);
  const weekOffset = tf === "1w" ? 4 * 86_400_000 : 0;
  let prev = -Infinity;
  let cover = 0; // index into `verified` of the interval that may hold the current candle
  for (let i = 0; i < c.time.length; i++) {
    const t = Number(c.time[i]);
    const at = (col: string) => `${field}.candles.${col}[${i}]`;
    if (!(t >= 0 && t <= MAX_TIME_MS)) {
      throw new InvalidArgumentError(at("time_ms"), String(c.time[i]), "is outside 1970..9999");
    }
    const aligned = len !== undefined ? (t - weekOffset) % len === 0 : isAligned(tf, t);
    if (!aligned) throw new InvalidArgumentError(at("time_ms"), String(t), `is not aligned to a ${tf} bucket`);
    if (t <= prev) {
      throw new InvalidArgumentError(
        at("time_ms"),
        String(t),
        t === prev ? "is a duplicate of the candle before it" : "is not after the candle before it (times must ascend)",
      );
    }
    prev = t;
    if (t >= formingStart) {
      throw new InvalidArgumentError(at("time_ms"), String(t), "is the bucket still forming or later; only closed candles are stored");
    }
    const open = c.open[i]!, high = c.high[i]!, low = c.low[i]!, close = c.close[i]!;
    for (const [col, v] of [["open", open], ["high", high], ["low", low], ["close", close]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(at(col), String(v), "must be a finite positive price");
    }
    if (low > high) throw new InvalidArgumentError(at("low"), String(low), `is above high ${high}`);
    if (open < low || open > high) throw new InvalidArgumentError(at("open"), String(open), `is outside [low ${low}, high ${high}]`);
    if (close < low || close > high) throw new InvalidArgumentError(at("close"), String(close), `is outside [low ${low}, high ${high}]`);
    for (const [col, v] of [["volume", c.volume[i]!], ["quote_volume", c.quoteVolume[i]!]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new InvalidArgumentError(at(col), String(v), "must be a finite amount >= 0");
    }
    if (verified.length > 0) {
      while (cover < verified.length && verified[cover]!.end <= t) cover++;
      const iv = verified[cover];
      if (iv === undefined || t < iv.start) {
        throw new InvalidArgumentError(at("time_ms"), String(t), "lies outside every interval the segment says it verifies");
      }
    }
  }
}
