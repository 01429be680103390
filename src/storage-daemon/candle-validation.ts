import type { CandleColumns } from "../shared/candle-columns.js";
import { InvalidArgumentError } from "../shared/errors.js";
import { type Interval, normalize } from "../shared/intervals.js";
import { bucketStart, FIRST_MONDAY_MS, fixedBucketMs, isAligned, MAX_TIME_MS } from "../shared/time.js";
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
  const weekOffset = tf === "1w" ? FIRST_MONDAY_MS : 0;
  const { time, open, high, low, close, volume, quoteVolume } = c;
  let prev = -Infinity;
  let cover = 0; // index into `verified` of the interval that may hold the current candle
  // The loop only decides; `explainRow` names the problem. Building messages per row would cost
  // more than the checks themselves on a million-candle write.
  for (let i = 0; i < time.length; i++) {
    const t = Number(time[i]);
    const o = open[i]!, h = high[i]!, l = low[i]!, cl = close[i]!, v = volume[i]!, qv = quoteVolume[i]!;
    let ok =
      t >= 0 && t <= MAX_TIME_MS && t > prev && t < formingStart &&
      (len !== undefined ? (t - weekOffset) % len === 0 : isAligned(tf, t)) &&
      o > 0 && h > 0 && l > 0 && cl > 0 && h < Infinity &&
      l <= h && o >= l && o <= h && cl >= l && cl <= h &&
      v >= 0 && v < Infinity && qv >= 0 && qv < Infinity;
    if (ok && verified.length > 0) {
      while (cover < verified.length && verified[cover]!.end <= t) cover++;
      ok = cover < verified.length && t >= verified[cover]!.start;
    }
    if (!ok) explainRow(seg, field, i, prev, formingStart, verified);
    prev = t;
  }
}

/** Throws the INVALID_ARGUMENT for the first rule row `i` breaks. */
function explainRow(seg: CandleSegment, field: string, i: number, prev: number, formingStart: number, verified: readonly Interval[]): never {
  const { timeframe: tf, candles: c } = seg;
  const at = (col: string) => `${field}.candles.${col}[${i}]`;
  const t = Number(c.time[i]);
  if (!(t >= 0 && t <= MAX_TIME_MS)) throw new InvalidArgumentError(at("time_ms"), String(c.time[i]), "is outside 1970..9999");
  if (!isAligned(tf, t)) throw new InvalidArgumentError(at("time_ms"), String(t), `is not aligned to a ${tf} bucket`);
  if (t === prev) throw new InvalidArgumentError(at("time_ms"), String(t), "is a duplicate of the candle before it");
  if (t < prev) throw new InvalidArgumentError(at("time_ms"), String(t), "is not after the candle before it (times must ascend)");
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
  if (!verified.some((iv) => iv.start <= t && t < iv.end)) {
    throw new InvalidArgumentError(at("time_ms"), String(t), "lies outside every interval the segment says it verifies");
  }
  throw new Error(`candle ${i} failed validation for no known reason`);
}
