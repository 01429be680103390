/**
 * Facts of Upbit's public WebSocket protocol (API.md §4) that both its client (the gateway) and its
 * look-alike (the simulator) must agree on.
 */

/** Data types a subscription may name. */
export const UPBIT_WS_DATA_TYPES = [
  "ticker",
  "trade",
  "orderbook",
  "candle.1s",
  "candle.1m",
  "candle.3m",
  "candle.5m",
  "candle.10m",
  "candle.15m",
  "candle.30m",
  "candle.60m",
  "candle.240m",
] as const;
export type UpbitWsDataType = (typeof UPBIT_WS_DATA_TYPES)[number];
export type UpbitWsCandleType = Extract<UpbitWsDataType, `candle.${string}`>;

/** Orderbook depths (`CODE.N`) Upbit serves; any other N silently gives 30. */
export const UPBIT_WS_ORDERBOOK_DEPTHS: readonly number[] = [1, 5, 15, 30];
