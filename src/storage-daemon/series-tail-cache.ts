import { allocateColumns, type CandleColumns, copyColumns, sliceColumns } from "../shared/candle-columns.js";

/** Candles kept per cached series; "latest N" reads up to this many cost no query. */
export const TAIL_ROWS = 2_048;
/** Series whose tails are kept (least recently read dropped first): at most ~29 MB. */
export const MAX_TAIL_SERIES = 128;

/**
 * The most recent stored candles of a series: every stored row with time >= `start`, ascending.
 * `start` is -Infinity when the tail holds the whole series.
 */
export interface SeriesTail {
  readonly start: number;
  readonly rows: CandleColumns;
}

/**
 * Tails of the most read series, so that a trading bot asking for the latest few hundred candles
 * is answered from memory. The store keeps each cached tail equal to what DuckDB holds: it merges
 * every committed write into the tail of its series.
 */
export class SeriesTailCache {
  private readonly tails = new Map<number, SeriesTail>();

  /** The tail of `series`, marking it recently used. */
  get(series: number): SeriesTail | undefined {
    const tail = this.tails.get(series);
    if (tail !== undefined) {
      this.tails.delete(series);
      this.tails.set(series, tail);
    }
    return tail;
  }

  set(series: number, tail: SeriesTail): void {
    this.tails.delete(series);
    this.tails.set(series, tail);
    if (this.tails.size > MAX_TAIL_SERIES) this.tails.delete(this.tails.keys().next().value!);
  }

  /** Merges committed candles (ascending) into the cached tail of `series`, if there is one. */
  apply(series: number, written: CandleColumns): void {
    const tail = this.tails.get(series);
    if (tail === undefined) return;
    let from = 0;
    while (from < written.time.length && Number(written.time[from]) < tail.start) from++;
    if (from === written.time.length) return;
    const merged = mergeByTime(tail.rows, sliceColumns(written, from, written.time.length));
    // Trim lazily (at twice the size) so a live series does not copy its tail on every write.
    if (merged.time.length <= 2 * TAIL_ROWS) {
      this.tails.set(series, { start: tail.start, rows: merged });
    } else {
      const keep = sliceColumns(merged, merged.time.length - TAIL_ROWS, merged.time.length);
      this.tails.set(series, { start: Number(keep.time[0]), rows: copyColumns(keep) });
    }
  }

  /** Drops the rows older than `cutoff` from the cached tail of `series` (retention deleted them). */
  dropBefore(series: number, cutoff: number): void {
    const tail = this.tails.get(series);
    if (tail === undefined) return;
    const from = lowerBound(tail.rows.time, cutoff);
    const rows = from === 0 ? tail.rows : copyColumns(sliceColumns(tail.rows, from, tail.rows.time.length));
    // A tail reaching back to the cutoff now holds every row the series has left.
    this.tails.set(series, { start: tail.start <= cutoff ? -Infinity : tail.start, rows });
  }

  /**
   * The last `n` candles in `[start, end)` if the tail can answer: it holds at least `n` of them,
   * or everything the series has from `start` on.
   */
  static lastN(tail: SeriesTail, start: number, end: number, n: number): CandleColumns | undefined {
    const t = tail.rows.time;
    const hi = lowerBound(t, end);
    const lo = lowerBound(t, start);
    if (hi - lo >= n) return sliceColumns(tail.rows, hi - n, hi);
    return tail.start <= start ? sliceColumns(tail.rows, lo, hi) : undefined;
  }
}

/** First index whose time is >= `time`. */
function lowerBound(times: BigInt64Array, time: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(times[mid]) < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Union of two ascending column sets; on equal times `b` (the newer write) wins. */
function mergeByTime(a: CandleColumns, b: CandleColumns): CandleColumns {
  const out = allocateColumns(a.time.length + b.time.length);
  let i = 0;
  let j = 0;
  let k = 0;
  const take = (src: CandleColumns, at: number) => {
    out.time[k] = src.time[at]!;
    out.open[k] = src.open[at]!;
    out.high[k] = src.high[at]!;
    out.low[k] = src.low[at]!;
    out.close[k] = src.close[at]!;
    out.volume[k] = src.volume[at]!;
    out.quoteVolume[k] = src.quoteVolume[at]!;
    k++;
  };
  while (i < a.time.length || j < b.time.length) {
    if (j >= b.time.length || (i < a.time.length && a.time[i]! < b.time[j]!)) take(a, i++);
    else {
      if (i < a.time.length && a.time[i] === b.time[j]) i++;
      take(b, j++);
    }
  }
  return sliceColumns(out, 0, k);
}
