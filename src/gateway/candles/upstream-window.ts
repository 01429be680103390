import { allocateColumns, type CandleColumns } from "../../shared/candle-columns.js";
import type { Interval } from "../../shared/intervals.js";
import { bucketCeil, bucketStart, DAY_MS, isAligned } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { UpbitRestClient } from "../upstream/upbit-rest-client.js";
import type { UpbitCandle } from "../upstream/upbit-types.js";
import type { CandleWindow } from "./candle-windows.js";

/** Upbit serves 1-second candles of the last three months only (API.md §1.2). */
const SECONDS_HISTORY_MS = 90 * DAY_MS;
/** Kept off the edge of that history: near it Upbit may already have dropped a few rows. */
const SECONDS_HISTORY_MARGIN_MS = DAY_MS;

/** Upbit answered with candles that cannot be true for the window asked (see `validateWindow`). */
export class InvalidUpstreamCandlesError extends Error {
  override readonly name = "InvalidUpstreamCandlesError";
}

/** One fetched window: its candles, ascending, and the interval they prove complete. */
export interface FetchedWindow {
  readonly candles: CandleColumns;
  readonly verified: Interval;
}

/** Oldest bucket Upbit is sure to still serve for `tf`; undefined when it keeps everything. */
export function upstreamHistoryStart(tf: Timeframe, nowMs: number): number | undefined {
  return tf === "1s" ? bucketCeil(tf, nowMs - SECONDS_HISTORY_MS + SECONDS_HISTORY_MARGIN_MS) : undefined;
}

/**
 * Checks what Upbit sent for `window` (market, alignment, inside `[.., end)`, price order, no
 * duplicates) and returns it ascending with the interval it verifies: n = count proves
 * `[oldest, end)`; fewer prove there is nothing older, back to the market's beginning (or, for
 * seconds, to the start of Upbit's history).
 */
export function validateWindow(market: string, tf: Timeframe, window: CandleWindow, rows: readonly UpbitCandle[], nowMs: number): FetchedWindow {
  const n = rows.length;
  if (n > window.count) throw new InvalidUpstreamCandlesError(`asked for ${window.count} candles, got ${n}`);
  const candles = allocateColumns(n);
  let previous = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const c = rows[i]!;
    const where = `candle ${new Date(c.timeMs).toISOString()}`;
    if (c.market !== market) throw new InvalidUpstreamCandlesError(`${where} is of market ${c.market}, not ${market}`);
    if (!isAligned(tf, c.timeMs)) throw new InvalidUpstreamCandlesError(`${where} is not aligned to ${tf}`);
    if (c.timeMs >= window.end) throw new InvalidUpstreamCandlesError(`${where} is not before to=${new Date(window.end).toISOString()}`);
    if (c.timeMs >= previous) throw new InvalidUpstreamCandlesError(`${where} is duplicated or out of order`);
    if (!(c.low <= Math.min(c.open, c.close) && Math.max(c.open, c.close) <= c.high)) {
      throw new InvalidUpstreamCandlesError(`${where} has low ${c.low}, open ${c.open}, close ${c.close}, high ${c.high} out of order`);
    }
    if (!(c.volume >= 0 && c.quoteVolume >= 0)) throw new InvalidUpstreamCandlesError(`${where} has a negative volume`);
    previous = c.timeMs;
    const j = n - 1 - i;
    candles.time[j] = BigInt(c.timeMs);
    candles.open[j] = c.open;
    candles.high[j] = c.high;
    candles.low[j] = c.low;
    candles.close[j] = c.close;
    candles.volume[j] = c.volume;
    candles.quoteVolume[j] = c.quoteVolume;
  }
  const oldest = n > 0 ? Number(candles.time[0]) : window.end;
  let start: number;
  if (n === window.count) start = oldest;
  else {
    const historyStart = upstreamHistoryStart(tf, nowMs);
    start = Math.min(oldest, historyStart ?? bucketStart(tf, 0));
  }
  return { candles, verified: { start, end: window.end } };
}

/** Fetches one window with one upstream call and validates it. */
export async function fetchWindow(
  upbit: UpbitRestClient,
  market: string,
  tf: Timeframe,
  window: CandleWindow,
  options: { priority: Priority; signal: AbortSignal; nowMs: number },
): Promise<FetchedWindow> {
  const rows = await upbit.candles(market, tf, { to: window.end, count: window.count }, { priority: options.priority, signal: options.signal });
  return validateWindow(market, tf, window, rows, options.nowMs);
}
