/** Most candles one GetLatestCandles answer of the storage daemon holds (~1.1 MB); more is a range read. */
export const MAX_LATEST_CANDLES = 20_000;
