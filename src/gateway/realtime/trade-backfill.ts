/**
 * The REST side of a trade stream: the last trade (a snapshot when the live feed has none) and
 * the trades since a time (the backfill after an upstream reconnect), walking Upbit's history
 * newest first by cursor with the same paging as GetTrades (snapshots/trade-paging.ts).
 */
import type { Trade } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { tradeToProto } from "../snapshots/proto-conversions.js";
import { collectTrades } from "../snapshots/trade-paging.js";
import { oldestTradeDayMs } from "../snapshots/trade-window.js";
import type { CallOptions, TradeQuery, UpbitRestClient } from "../upstream/upbit-rest-client.js";
import { TRADES_PATH } from "../upstream/upbit-rest-parsers.js";
import type { UpbitTrade } from "../upstream/upbit-types.js";
import { UpstreamProtocolError } from "../upstream/upstream-errors.js";

/**
 * Most trades one backfill of one market fetches: 10 pages of Upbit's 500, one second of the
 * trade group's budget. An outage longer than that on a busy market ends in a gap notice for
 * its oldest part rather than an unbounded walk.
 */
export const MAX_BACKFILL_TRADES = 5_000;

export type TradePageFetcher = (query: TradeQuery) => Promise<UpbitTrade[]>;

/** One market's `/v1/trades/ticks`, refusing an answer about another market. */
export function tradePages(upbit: Pick<UpbitRestClient, "trades">, market: string, options: CallOptions): TradePageFetcher {
  return async (query) => {
    const page = await upbit.trades(market, query, options);
    const stray = page.find((t) => t.market !== market);
    if (stray) throw new UpstreamProtocolError(TRADES_PATH, "market", `${stray.market} answered a request for ${market}`);
    return page;
  };
}

/** The market's last trade, or undefined when it never traded (in Upbit's 7 days). */
export async function fetchLatestTrade(fetchPage: TradePageFetcher): Promise<Trade | undefined> {
  const [latest] = await fetchPage({ count: 1 });
  return latest === undefined ? undefined : tradeToProto(latest);
}

export interface Backfill {
  /** Trades from `sinceMs` (inclusive) up to now, ascending. */
  trades: Trade[];
  /**
   * Set when trades from `sinceMs` up to this time (exclusive) could not all be fetched: older
   * than the 7 UTC days Upbit keeps, or beyond `maxTrades`.
   */
  lostBeforeMs: number | undefined;
}

/** The trades of one market since `sinceMs` (inclusive), at most `maxTrades` of the newest. */
export async function backfillTrades(fetchPage: TradePageFetcher, sinceMs: number, nowMs: number, maxTrades = MAX_BACKFILL_TRADES): Promise<Backfill> {
  const oldest = oldestTradeDayMs(nowMs);
  const startMs = Math.max(sinceMs, oldest);
  const { trades } = await collectTrades(fetchPage, { count: maxTrades, startMs, endMs: undefined }, nowMs);
  let lostBeforeMs = sinceMs < oldest ? oldest : undefined;
  if (trades.length >= maxTrades) {
    // The walk stopped at the count: same-ms neighbours of the oldest fetched may be missing too.
    lostBeforeMs = trades[trades.length - 1]!.tradeTimestampMs + 1;
  }
  // collectTrades answers newest first.
  return { trades: trades.map(tradeToProto).reverse(), lostBeforeMs };
}
