/**
 * Upbit's quotation data as the gateway uses it, parsed and validated from REST or WebSocket
 * (either format): UTC epoch ms for every time, numbers as numbers, ids as bigint.
 */

export interface UpbitMarket {
  market: string;
  koreanName: string;
  englishName: string;
  /** Present only when asked with details. */
  warning?: boolean;
  caution?: Record<string, boolean>;
}

export interface UpbitCandle {
  market: string;
  /** Bucket start (candle_date_time_utc), UTC ms. */
  timeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** candle_acc_trade_volume */
  volume: number;
  /** candle_acc_trade_price */
  quoteVolume: number;
  /** Storage time of the bucket's last tick; never the bucket time. */
  timestampMs: number;
}

export type Change = "RISE" | "EVEN" | "FALL";
export type AskBid = "ASK" | "BID";

export interface UpbitTicker {
  market: string;
  tradeTimestampMs: number;
  openingPrice: number;
  highPrice: number;
  lowPrice: number;
  tradePrice: number;
  prevClosingPrice: number;
  change: Change;
  changePrice: number;
  changeRate: number;
  signedChangePrice: number;
  signedChangeRate: number;
  tradeVolume: number;
  accTradePrice: number;
  accTradePrice24h: number;
  accTradeVolume: number;
  accTradeVolume24h: number;
  highest52WeekPrice: number;
  /** `YYYY-MM-DD` */
  highest52WeekDate: string;
  lowest52WeekPrice: number;
  lowest52WeekDate: string;
  timestampMs: number;
  /** WebSocket only. */
  askBid?: AskBid;
  accAskVolume?: number;
  accBidVolume?: number;
  marketState?: string;
  delistingDate?: string | null;
  marketWarning?: string;
  isTradingSuspended?: boolean;
  /** WebSocket only: SNAPSHOT or REALTIME. */
  streamType?: "SNAPSHOT" | "REALTIME";
}

export interface UpbitOrderbookUnit {
  askPrice: number;
  askSize: number;
  bidPrice: number;
  bidSize: number;
}

export interface UpbitOrderbook {
  market: string;
  timestampMs: number;
  totalAskSize: number;
  totalBidSize: number;
  /** Best first; Upbit's zero-padded slots removed. */
  units: UpbitOrderbookUnit[];
  level: number;
  streamType?: "SNAPSHOT" | "REALTIME";
}

/** Tick size and aggregation levels of a pair (`/v1/orderbook/instruments`). */
export interface UpbitOrderbookInstrument {
  market: string;
  /** `KRW`, `BTC` or `USDT`. */
  quoteCurrency: string;
  /** Decimal string, exact as sent (`"1000"`, `"0.00000001"`). */
  tickSize: string;
  /** Aggregation levels `level` accepts, decimal strings as sent; `"0"` is the native tick. */
  supportedLevels: string[];
}

export interface UpbitTrade {
  market: string;
  /** Trade time, UTC ms. */
  tradeTimestampMs: number;
  tradePrice: number;
  tradeVolume: number;
  askBid: AskBid;
  prevClosingPrice: number;
  /** Signed change against the previous close (REST); absolute on WebSocket with `change`. */
  changePrice: number;
  /** Exceeds 2^53: parsed exactly from the raw JSON text. */
  sequentialId: bigint;
  /** WebSocket only. */
  change?: Change;
  bestAskPrice?: number;
  bestAskSize?: number;
  bestBidPrice?: number;
  bestBidSize?: number;
  timestampMs?: number;
  streamType?: "SNAPSHOT" | "REALTIME";
}

/** A live candle update from WebSocket `candle.*` (cumulative for its bucket; last one wins). */
export interface UpbitCandleUpdate extends UpbitCandle {
  /** The `type`, e.g. `candle.1m`. */
  type: string;
  streamType?: "SNAPSHOT" | "REALTIME";
}
