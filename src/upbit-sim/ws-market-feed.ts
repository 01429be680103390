/**
 * Where the WebSocket messages' content comes from: the synthetic exchange, read once per feed
 * tick and shared by every connection (a record built for one connection is reused by all
 * others in the same tick), plus the live trade cursor that turns "time moved on" into the
 * ordered trades to push.
 */
import { bucketStart } from "../shared/time.js";
import type { SimTrade, SyntheticExchange } from "./exchange-model.js";
import {
  aggregateUnits,
  candleRecord,
  orderbookRecord,
  tickerRecord,
  tradeRecord,
  type WsRecord,
} from "./ws-frames.js";
import { storedAtMs } from "./tick-storage-time.js";
import { candleTimeframe, DEFAULT_ORDERBOOK_DEPTH, type WsCandleType } from "./ws-request-frame.js";

/** A live happening on one market, in the order connections must see it. */
export type LiveEvent =
  | { readonly kind: "trade"; readonly code: string; readonly atMs: number; readonly trade: SimTrade }
  /** The ticker changed: emitted after the last trade of each (market, millisecond). */
  | { readonly kind: "ticker"; readonly code: string; readonly atMs: number };

/**
 * Builds DEFAULT records from the exchange as of a clock reading, memoised per reading: every
 * connection served in one tick shares the records (and the exchange reads) of that tick.
 */
export class WsRecordSource {
  private memo = new Map<string, unknown>();
  private memoNowMs = Number.NaN;
  /** Previous-close per market for the UTC day last asked about; trades need it per message. */
  private readonly prevClose = new Map<string, { dayStartMs: number; price: number }>();

  constructor(private readonly exchange: SyntheticExchange) {}

  private memoised<T>(nowMs: number, key: string, build: () => T): T {
    // What the exchange says (forming candles, stored-at times) depends on its clock.
    if (nowMs !== this.memoNowMs) {
      this.memo = new Map();
      this.memoNowMs = nowMs;
    }
    // Keys are unique per builder, so a hit holds what this very builder type returned.
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = build();
    this.memo.set(key, value);
    return value;
  }

  /** The ticker as of `atMs` (a trade time or now). */
  ticker(code: string, atMs: number, nowMs: number): WsRecord | undefined {
    return this.memoised(nowMs, `ticker|${code}|${atMs}`, () => {
      const market = this.exchange.market(code);
      const t = market && this.exchange.ticker(code, atMs);
      if (!market || !t) return undefined;
      // The same stored-at time the REST ticker shows for this trade.
      return tickerRecord(market, t, storedAtMs(code, t.lastTrade.timestampMs, nowMs));
    });
  }

  trade(trade: SimTrade, nowMs: number): WsRecord {
    return this.memoised(nowMs, `trade|${trade.market}|${trade.sequentialId}`, () => {
      const best = this.exchange.orderbook(trade.market, trade.timestampMs, 1).units[0];
      return tradeRecord(
        trade,
        this.prevClosingPrice(trade.market, trade.timestampMs),
        best,
        storedAtMs(trade.market, trade.timestampMs, nowMs),
      );
    });
  }

  /** The latest trade at or before `nowMs`, as a trade message (the trade snapshot). */
  lastTrade(code: string, nowMs: number): WsRecord | undefined {
    const t = this.exchange.market(code) && this.exchange.ticker(code, nowMs);
    return t ? this.trade(t.lastTrade, nowMs) : undefined;
  }

  /**
   * When the book last changed, as of `nowMs`: a one-level read, so that polling every book on
   * every tick stays cheap and full books are built only when they changed.
   */
  orderbookTimestamp(code: string, nowMs: number): number | undefined {
    return this.memoised(nowMs, `book-time|${code}`, () =>
      this.exchange.market(code) ? this.exchange.orderbook(code, nowMs, 1).timestampMs : undefined,
    );
  }

  /**
   * The book at `nowMs` with `depth` units aggregated to `level`; undefined when the market does
   * not support that level (Upbit then sends nothing for the code).
   */
  orderbook(code: string, nowMs: number, depth: number, level: number): WsRecord | undefined {
    return this.memoised(nowMs, `orderbook|${code}|${depth}|${level}`, () => {
      const market = this.exchange.market(code);
      if (!market) return undefined;
      if (level === 0) {
        const book = this.exchange.orderbook(code, nowMs, depth);
        return orderbookRecord(book, book.units, depth, 0);
      }
      if (!market.supportedLevels.some((s) => Number(s) === level)) return undefined;
      // Aggregation merges native levels, so start from the deepest book the exchange serves.
      const book = this.exchange.orderbook(code, nowMs, DEFAULT_ORDERBOOK_DEPTH);
      return orderbookRecord(book, aggregateUnits(book.units, level), depth, level);
    });
  }

  /** The most recent existing candle at `nowMs` (the forming one if it has trades). */
  candle(type: WsCandleType, code: string, nowMs: number): WsRecord | undefined {
    return this.memoised(nowMs, `${type}|${code}`, () => {
      if (!this.exchange.market(code)) return undefined;
      const [latest] = this.exchange.candles(code, candleTimeframe(type), nowMs + 1, 1);
      return latest ? candleRecord(type, code, latest, storedAtMs(code, latest.lastTradeMs, nowMs)) : undefined;
    });
  }

  private prevClosingPrice(code: string, atMs: number): number {
    const dayStartMs = bucketStart("1d", atMs);
    const cached = this.prevClose.get(code);
    if (cached?.dayStartMs === dayStartMs) return cached.price;
    const price = this.exchange.ticker(code, atMs)?.prevClosingPrice ?? 0;
    this.prevClose.set(code, { dayStartMs, price });
    return price;
  }
}

/**
 * The live trade cursor per market: each poll returns the trades in (last poll, now], merged
 * across markets in time order, with a ticker event after each (market, millisecond) group.
 */
export class LiveTradeFeed {
  /** Market → every trade at or before this time has been handed out. */
  private readonly cursors = new Map<string, number>();

  constructor(private readonly exchange: SyntheticExchange) {}

  /** Start following `code` from `fromMs` (exclusive) unless it is followed already. */
  track(code: string, fromMs: number): void {
    if (!this.cursors.has(code)) this.cursors.set(code, fromMs);
  }

  /** Events up to `nowMs` for the markets in `codes`; markets no longer wanted are dropped. */
  poll(codes: ReadonlySet<string>, nowMs: number): LiveEvent[] {
    for (const code of this.cursors.keys()) if (!codes.has(code)) this.cursors.delete(code);
    const events: LiveEvent[] = [];
    for (const code of codes) {
      const cursor = this.cursors.get(code);
      if (cursor === undefined) {
        this.cursors.set(code, nowMs);
        continue;
      }
      if (nowMs <= cursor) continue;
      const trades = this.exchange.trades(code, cursor + 1, nowMs + 1);
      this.cursors.set(code, nowMs);
      for (let i = 0; i < trades.length; i++) {
        const trade = trades[i] as SimTrade;
        events.push({ kind: "trade", code, atMs: trade.timestampMs, trade });
        const next = trades[i + 1];
        if (next === undefined || next.timestampMs !== trade.timestampMs) {
          events.push({ kind: "ticker", code, atMs: trade.timestampMs });
        }
      }
    }
    // Stable: each market's own order (trades, then its ticker) survives the merge.
    events.sort((a, b) => a.atMs - b.atMs);
    return events;
  }
}
