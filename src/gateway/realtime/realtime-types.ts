/**
 * The vocabulary of the realtime hub, shared by every stream kind built on it (tickers, order
 * books, trades, candles): what a topic is, what value each type carries, and how priorities
 * order the fan-out.
 */
import type { Orderbook, Ticker, Trade } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { UpbitWsCandleType, UpbitWsDataType } from "../../shared/upbit-websocket-protocol.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { UpbitCandleUpdate } from "../upstream/upbit-types.js";

/** A data type of Upbit's WebSocket: `ticker`, `orderbook`, `trade`, `candle.1s` ... `candle.240m`. */
export type RealtimeType = UpbitWsDataType;
export type RealtimeCandleType = UpbitWsCandleType;

/**
 * What the hub hands out per type. Tickers, books and trades are converted to the public proto
 * once, on arrival, so a thousand subscribers share one converted value. Candle updates stay in
 * Upbit's shape (cumulative per bucket, last one wins) for the candle stream to convert.
 * Order books are always Upbit's full depth (30 levels); subscribers cut them.
 */
export type RealtimeValue<T extends RealtimeType> = T extends "ticker"
  ? Ticker
  : T extends "orderbook"
    ? Orderbook
    : T extends "trade"
      ? Trade
      : UpbitCandleUpdate;

/** One value of one (type, market) as the hub received it. */
export interface RealtimeUpdate<T extends RealtimeType = RealtimeType> {
  readonly type: T;
  readonly market: string;
  readonly value: RealtimeValue<T>;
  /**
   * Upbit marked it SNAPSHOT: the state it sends when a subscription starts (also after every
   * resubscription, e.g. on reconnect), not a live event. Resent snapshots identical to the
   * value the hub holds are dropped before fan-out.
   */
  readonly upstreamSnapshot: boolean;
  /** When the hub received it, per the hub's clock (UTC ms). */
  readonly receivedAtMs: number;
}

/** Types whose latest values go to the storage daemon's realtime cache. */
export type CachedRealtimeType = "ticker" | "orderbook" | "trade";
/** Types unary reads are served for from the realtime cache, and so can be auto-subscribed. */
export type UnaryReadType = "ticker" | "orderbook";

/** Fan-out order: a lower rank is served first on every update. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3 };

export function topicKey(type: RealtimeType, market: string): string {
  return `${type}|${market}`;
}

export function isCandleType(type: RealtimeType): type is RealtimeCandleType {
  return type.startsWith("candle.");
}
