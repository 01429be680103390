/**
 * Candles held column by column, the form in which they move between DuckDB, the wire and the
 * planner: typed arrays copy in bulk where objects per candle would cost an allocation each.
 */
export interface CandleColumns {
  /** Bucket open times, UTC ms. */
  readonly time: BigInt64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
}

export const PRICE_COLUMNS = ["open", "high", "low", "close", "volume", "quoteVolume"] as const;
export type PriceColumn = (typeof PRICE_COLUMNS)[number];

export function columnsLength(c: CandleColumns): number {
  return c.time.length;
}

export function allocateColumns(n: number): CandleColumns {
  return {
    time: new BigInt64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    quoteVolume: new Float64Array(n),
  };
}

/** A view of rows `[from, to)`, sharing memory with `c`. */
export function sliceColumns(c: CandleColumns, from: number, to: number): CandleColumns {
  return {
    time: c.time.subarray(from, to),
    open: c.open.subarray(from, to),
    high: c.high.subarray(from, to),
    low: c.low.subarray(from, to),
    close: c.close.subarray(from, to),
    volume: c.volume.subarray(from, to),
    quoteVolume: c.quoteVolume.subarray(from, to),
  };
}

/** The first row of ascending `c` at or after index `from` whose open time is not below `t`. */
function lowerBound(c: CandleColumns, t: number, from: number): number {
  let lo = from;
  let hi = columnsLength(c);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(c.time[mid]) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A view of the rows of ascending `c` with open time in `[start, end)`; a binary search, so a BigInt per probe, not per row. */
export function columnsWithin(c: CandleColumns, start: number, end: number): CandleColumns {
  const from = lowerBound(c, start, 0);
  return sliceColumns(c, from, Math.max(from, lowerBound(c, end, from)));
}

/** The rows of `parts`, in order, in one set of columns. */
export function concatColumns(parts: readonly CandleColumns[]): CandleColumns {
  const out = allocateColumns(parts.reduce((n, p) => n + columnsLength(p), 0));
  let at = 0;
  for (const p of parts) {
    out.time.set(p.time, at);
    for (const name of PRICE_COLUMNS) out[name].set(p[name], at);
    at += columnsLength(p);
  }
  return out;
}

/** A copy of `c` that owns its memory. */
export function copyColumns(c: CandleColumns): CandleColumns {
  return {
    time: c.time.slice(),
    open: c.open.slice(),
    high: c.high.slice(),
    low: c.low.slice(),
    close: c.close.slice(),
    volume: c.volume.slice(),
    quoteVolume: c.quoteVolume.slice(),
  };
}

/** Plain candle objects, for tests and small answers. */
export interface CandleRow {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
}

export function columnsFromRows(rows: readonly CandleRow[]): CandleColumns {
  const c = allocateColumns(rows.length);
  rows.forEach((r, i) => {
    c.time[i] = BigInt(r.time);
    c.open[i] = r.open;
    c.high[i] = r.high;
    c.low[i] = r.low;
    c.close[i] = r.close;
    c.volume[i] = r.volume;
    c.quoteVolume[i] = r.quoteVolume;
  });
  return c;
}

export function rowsFromColumns(c: CandleColumns): CandleRow[] {
  const rows: CandleRow[] = [];
  for (let i = 0; i < c.time.length; i++) {
    rows.push({
      time: Number(c.time[i]),
      open: c.open[i]!,
      high: c.high[i]!,
      low: c.low[i]!,
      close: c.close[i]!,
      volume: c.volume[i]!,
      quoteVolume: c.quoteVolume[i]!,
    });
  }
  return rows;
}
