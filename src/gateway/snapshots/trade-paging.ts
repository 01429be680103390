import { bucketStart, DAY_MS } from "../../shared/time.js";
import { MAX_DAYS_AGO, MAX_TRADE_COUNT, type TradeQuery } from "../upstream/upbit-rest-client.js";
import { TRADES_PATH } from "../upstream/upbit-rest-parsers.js";
import type { UpbitTrade } from "../upstream/upbit-types.js";
import { UpstreamProtocolError } from "../upstream/upstream-errors.js";
import { startPosition, type TradeWindow } from "./trade-window.js";

/** One `/v1/trades/ticks` call of one market. */
export type FetchTradePage = (query: TradeQuery) => Promise<UpbitTrade[]>;

export interface CollectedTrades {
  /** Newest first, distinct sequential ids, inside the window. */
  trades: UpbitTrade[];
  /** Upstream calls made. */
  pages: number;
}

/**
 * Up to `window.count` trades of one market inside the window, newest first. Pages of at most
 * 500 walk back by cursor within a UTC day; a short page means the day is exhausted, and the
 * walk goes on with the day before (`days_ago` + 1) until the count is reached, a trade older
 * than `startMs` shows up, or Upbit's 7 days of history are used up.
 */
export async function collectTrades(fetchPage: FetchTradePage, window: TradeWindow, nowMs: number): Promise<CollectedTrades> {
  const { count, startMs, endMs } = window;
  const todayStart = bucketStart("1d", nowMs);
  let { daysAgo, to } = startPosition(endMs, nowMs);
  let cursor: bigint | undefined;
  const trades: UpbitTrade[] = [];
  const seen = new Set<bigint>();
  let pages = 0;
  while (trades.length < count && daysAgo <= MAX_DAYS_AGO) {
    const dayEnd = todayStart - (daysAgo - 1) * DAY_MS;
    if (startMs !== undefined && dayEnd <= startMs) break;
    const asked = Math.min(MAX_TRADE_COUNT, count - trades.length);
    const query: TradeQuery = { count: asked };
    if (cursor !== undefined) query.cursor = cursor;
    if (daysAgo > 0) query.daysAgo = daysAgo;
    if (to !== undefined) query.to = to;
    const page = await fetchPage(query);
    pages++;
    let reachedStart = false;
    for (const t of page) {
      if (endMs !== undefined && t.tradeTimestampMs >= endMs) continue;
      if (startMs !== undefined && t.tradeTimestampMs < startMs) {
        reachedStart = true;
        break;
      }
      if (seen.has(t.sequentialId)) continue;
      seen.add(t.sequentialId);
      trades.push(t);
      if (trades.length === count) break;
    }
    if (reachedStart || trades.length >= count) break;
    to = undefined;
    if (page.length < asked) {
      daysAgo++;
      cursor = undefined;
      continue;
    }
    const next = page[page.length - 1]!.sequentialId;
    // A cursor that does not move would page forever.
    if (next === cursor) throw new UpstreamProtocolError(TRADES_PATH, "cursor", `${next} answered with the same last trade again`);
    cursor = next;
  }
  // Upbit sends newest first; a stable sort makes that a guarantee without reordering equal times.
  trades.sort((a, b) => b.tradeTimestampMs - a.tradeTimestampMs);
  return { trades, pages };
}
