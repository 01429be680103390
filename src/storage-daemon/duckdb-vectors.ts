import {
  BIGINT,
  DOUBLE,
  INTEGER,
  type DuckDBAppender,
  DuckDBDataChunk,
  type DuckDBVector,
} from "@duckdb/node-api";
import { type CandleColumns, PRICE_COLUMNS } from "../shared/candle-columns.js";

/**
 * The one place that reaches into DuckDB vectors' typed arrays. The client types mark `items`
 * private, but copying it is ~6x faster than reading values one by one (LIMITS.md), which is
 * what keeps range reads and ingest near DuckDB's own speed.
 */
function itemsOf<T extends BigInt64Array | Float64Array | Int32Array>(vector: DuckDBVector): T {
  return (vector as unknown as { items: T }).items;
}

/** DuckDB's vector size: rows per data chunk. */
export const CHUNK_ROWS = 2048;

/** Column types of the candle rows appended: series id, time, then the price columns. */
const CANDLE_ROW_TYPES = [INTEGER, BIGINT, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE];

/** Appends `c` as rows `(series, time, open, high, low, close, volume, quote_volume)`. */
export function appendCandles(appender: DuckDBAppender, series: number, c: CandleColumns): void {
  const chunk = DuckDBDataChunk.create(CANDLE_ROW_TYPES);
  const n = c.time.length;
  for (let from = 0; from < n; from += CHUNK_ROWS) {
    const to = Math.min(n, from + CHUNK_ROWS);
    chunk.reset();
    chunk.rowCount = to - from;
    const seriesVector = chunk.getColumnVector(0);
    itemsOf<Int32Array>(seriesVector).fill(series, 0, to - from);
    seriesVector.flush();
    const timeVector = chunk.getColumnVector(1);
    itemsOf<BigInt64Array>(timeVector).set(c.time.subarray(from, to));
    timeVector.flush();
    PRICE_COLUMNS.forEach((name, k) => {
      const v = chunk.getColumnVector(2 + k);
      itemsOf<Float64Array>(v).set(c[name].subarray(from, to));
      v.flush();
    });
    appender.appendDataChunk(chunk);
  }
}

/**
 * Copies rows `[from, from + n)` of a result chunk laid out `(time, open, high, low, close,
 * volume, quote_volume)` into `out` at `at`.
 */
export function copyCandleChunk(chunk: DuckDBDataChunk, from: number, n: number, out: CandleColumns, at: number): void {
  out.time.set(itemsOf<BigInt64Array>(chunk.getColumnVector(0)).subarray(from, from + n), at);
  PRICE_COLUMNS.forEach((name, k) => {
    out[name].set(itemsOf<Float64Array>(chunk.getColumnVector(1 + k)).subarray(from, from + n), at);
  });
}
