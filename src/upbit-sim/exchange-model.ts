/**
 * The contract between the simulator's synthetic exchange (what trades happen, deterministically
 * from the seed) and its REST and WebSocket front ends (how Upbit shows them). The front ends
 * format; they never invent data.
 */
import type { Timeframe } from "../shared/timeframe.js";

export type QuoteCurrency = "KRW" | "BTC" | "USDT";

export interface SimMarket {
  /** Upbit code, `QUOTE-BASE`. */
  readonly code: string;
  readonly quote: QuoteCurrency;
  readonly base: string;
  readonly koreanName: string;
  readonly englishName: string;
  /** Mean trades per minute: ~30 for the most liquid, well under 1 for illiquid markets. */
  readonly tradesPerMinute: number;
  /** Price level around which the market trades. */
  readonly referencePrice: number;
  /** Quote-currency tick at the reference price (Upbit's price bands for KRW). */
  readonly tickSize: number;
  /** Orderbook aggregation levels Upbit supports for this pair (as strings, `"0"` first). */
  readonly supportedLevels: readonly string[];
  /** First moment with trades, UTC ms; nothing exists before it. */
  readonly listedAtMs: number;
  readonly warning: boolean;
  readonly caution: {
    readonly PRICE_FLUCTUATIONS: boolean;
    readonly TRADING_VOLUME_SOARING: boolean;
    readonly DEPOSIT_AMOUNT_SOARING: boolean;
    readonly GLOBAL_PRICE_DIFFERENCES: boolean;
    readonly CONCENTRATION_OF_SMALL_ACCOUNTS: boolean;
  };
}

export interface SimTrade {
  readonly market: string;
  /** Trade time, UTC ms. */
  readonly timestampMs: number;
  readonly price: number;
  readonly volume: number;
  /** `ASK`: the taker sold; `BID`: the taker bought. */
  readonly askBid: "ASK" | "BID";
  /** Upbit's shape: trade time ms × 10000 + index within that ms. Exceeds 2^53: bigint. */
  readonly sequentialId: bigint;
}

export interface SimCandle {
  /** Bucket start, UTC ms. */
  readonly timeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Base-currency volume (Upbit's candle_acc_trade_volume). */
  readonly volume: number;
  /** Sum of price × volume (Upbit's candle_acc_trade_price). */
  readonly quoteVolume: number;
  /** Time of the last trade in the bucket (Upbit stores the candle a few ms later: its `timestamp`). */
  readonly lastTradeMs: number;
  readonly tradeCount: number;
}

export interface SimTicker {
  readonly market: string;
  readonly lastTrade: SimTrade;
  /** Current UTC day so far (since 00:00 UTC): the day candle up to now. */
  readonly today: SimCandle;
  /** Close of the previous UTC day that had trades. */
  readonly prevClosingPrice: number;
  /** Rolling 24 h sums. */
  readonly accTradePrice24h: number;
  readonly accTradeVolume24h: number;
  /** Today's taker volumes (WebSocket-only fields). */
  readonly accAskVolume: number;
  readonly accBidVolume: number;
  readonly highest52WeekPrice: number;
  readonly highest52WeekDateMs: number;
  readonly lowest52WeekPrice: number;
  readonly lowest52WeekDateMs: number;
}

export interface SimOrderbookUnit {
  readonly askPrice: number;
  readonly askSize: number;
  readonly bidPrice: number;
  readonly bidSize: number;
}

export interface SimOrderbook {
  readonly market: string;
  /** Time of the book's last change, UTC ms. */
  readonly timestampMs: number;
  /** Best first; asks strictly ascending, bids strictly descending. */
  readonly units: readonly SimOrderbookUnit[];
}

/**
 * The synthetic exchange. Every answer is a pure function of (seed, market, time): two exchanges
 * with the same seed answer the same for any past range. Only trades at or before `now()` exist.
 */
export interface SyntheticExchange {
  readonly markets: readonly SimMarket[];
  market(code: string): SimMarket | undefined;
  /**
   * Up to `count` candles whose bucket starts before `toMs`, newest first, omitting buckets
   * without trades; the bucket holding `now()` is included with the trades so far.
   */
  candles(market: string, tf: Timeframe, toMs: number, count: number): SimCandle[];
  /** Trades with `fromMs <= timestampMs < toMs` (and <= now), ascending by (timestampMs, sequentialId). */
  trades(market: string, fromMs: number, toMs: number): SimTrade[];
  /** The ticker as of `atMs` (<= now); undefined before the market's first trade. */
  ticker(market: string, atMs: number): SimTicker | undefined;
  /** The order book as of `atMs`, `depth` levels (1..30). */
  orderbook(market: string, atMs: number, depth: number): SimOrderbook;
}
