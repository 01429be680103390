import { type CandleColumns, columnsLength, columnsWithin, concatColumns, sliceColumns } from "../../shared/candle-columns.js";
import { bucketIndex, bucketTimeOfIndex } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import { MAX_CANDLE_COUNT } from "../upstream/upbit-rest-client.js";

/** Candles held by default: ~60 MB of columns, a few thousand charts' worth of recent history. */
export const DEFAULT_HOT_CANDLES = 1_000_000;

/** What is known of one cell: every stored candle with open time in `[start, end)`. */
interface Entry {
  start: number;
  end: number;
  rows: CandleColumns;
}

/**
 * Recently read stored candles, held in the gateway on the same grid of 200-bucket cells the
 * planner uses, so a warm chart read (the same series again and again) costs no daemon round trip.
 * Only verified ranges enter (a missing row inside one is a known empty bucket, as in the store),
 * every write to the store drops the cells it touches, and the least recently used cells go first
 * once `maxRows` candles are held.
 */
export class HotCandleCache {
  private readonly cells = new Map<string, Entry>();
  private rows = 0;

  constructor(private readonly maxRows = DEFAULT_HOT_CANDLES) {}

  get size(): number {
    return this.rows;
  }

  /** Every candle in `[start, end)`, ascending, when each part of the range is held; else undefined. */
  range(market: string, tf: Timeframe, start: number, end: number): CandleColumns | undefined {
    const parts: CandleColumns[] = [];
    for (let cell = cellOf(tf, start); cell <= cellOf(tf, end - 1); cell++) {
      const part = this.part(market, tf, cell, start, end);
      if (!part) return undefined;
      parts.push(part);
    }
    return concatColumns(parts);
  }

  /** The `n` newest candles in `[start, end)`, ascending, when the cells they need are held; else undefined. */
  latest(market: string, tf: Timeframe, start: number, end: number, n: number): CandleColumns | undefined {
    const parts: CandleColumns[] = [];
    let found = 0;
    for (let cell = cellOf(tf, end - 1); cell >= cellOf(tf, start) && found < n; cell--) {
      const part = this.part(market, tf, cell, start, end);
      if (!part) return undefined;
      parts.unshift(part);
      found += columnsLength(part);
    }
    const all = concatColumns(parts);
    return sliceColumns(all, Math.max(0, columnsLength(all) - n), columnsLength(all));
  }

  /** Learns `rows`, every stored candle of the verified range `[start, end)`, ascending. */
  put(market: string, tf: Timeframe, start: number, end: number, rows: CandleColumns): void {
    if (end <= start || this.maxRows === 0) return;
    let i = 0;
    for (let cell = cellOf(tf, start); cell <= cellOf(tf, end - 1); cell++) {
      const [cellStart, cellEnd] = cellBounds(tf, cell);
      const from = Math.max(start, cellStart);
      const to = Math.min(end, cellEnd);
      const first = i;
      while (i < columnsLength(rows) && Number(rows.time[i]) < to) i++;
      this.learn(`${market}|${tf}|${cell}`, { start: from, end: to, rows: sliceColumns(rows, first, i) });
    }
  }

  /** Forgets every cell `[start, end)` touches: the store changed there. */
  invalidate(market: string, tf: Timeframe, start: number, end: number): void {
    if (end <= start) return;
    for (let cell = cellOf(tf, start); cell <= cellOf(tf, end - 1); cell++) this.drop(`${market}|${tf}|${cell}`);
  }

  private part(market: string, tf: Timeframe, cell: number, start: number, end: number): CandleColumns | undefined {
    const key = `${market}|${tf}|${cell}`;
    const entry = this.cells.get(key);
    const [cellStart, cellEnd] = cellBounds(tf, cell);
    const from = Math.max(start, cellStart);
    const to = Math.min(end, cellEnd);
    if (!entry || entry.start > from || entry.end < to) return undefined;
    this.cells.delete(key);
    this.cells.set(key, entry);
    return columnsWithin(entry.rows, from, to);
  }

  private learn(key: string, entry: Entry): void {
    const old = this.cells.get(key);
    let merged = entry;
    if (old && old.start <= entry.end && entry.start <= old.end) {
      // Overlapping or touching knowledge of one cell joins; the newer rows win where both speak.
      const before = columnsWithin(old.rows, old.start, entry.start);
      const after = columnsWithin(old.rows, entry.end, old.end);
      merged = { start: Math.min(old.start, entry.start), end: Math.max(old.end, entry.end), rows: concatColumns([before, entry.rows, after]) };
    } else {
      // Disjoint knowledge of one cell cannot be held as one range: keep the newer.
      merged = { ...entry, rows: concatColumns([entry.rows]) };
    }
    this.drop(key);
    this.cells.set(key, merged);
    this.rows += columnsLength(merged.rows);
    for (const [k] of this.cells) {
      if (this.rows <= this.maxRows) break;
      this.drop(k);
    }
  }

  private drop(key: string): void {
    const entry = this.cells.get(key);
    if (!entry) return;
    this.rows -= columnsLength(entry.rows);
    this.cells.delete(key);
  }
}

function cellOf(tf: Timeframe, t: number): number {
  return Math.floor(bucketIndex(tf, t) / MAX_CANDLE_COUNT);
}

function cellBounds(tf: Timeframe, cell: number): [number, number] {
  return [bucketTimeOfIndex(tf, cell * MAX_CANDLE_COUNT), bucketTimeOfIndex(tf, (cell + 1) * MAX_CANDLE_COUNT)];
}
