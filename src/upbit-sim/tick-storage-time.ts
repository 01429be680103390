/**
 * Upbit stores a candle (and a ticker) a few ms after its last trade (API.md §5.4); the delay is
 * 1..STORE_DELAY_SPREAD_MS ms, derived from the trade so every timeframe shows the same value.
 */
const STORE_DELAY_SPREAD_MS = 40;

/**
 * When Upbit stored the tick at `lastTradeMs`: a few ms later, never after `nowMs` (a stored
 * time in the future would be visible to a client as a clock anomaly).
 */
export function storedAtMs(code: string, lastTradeMs: number, nowMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (lastTradeMs % 1_000_003), 0x01000193);
  h = Math.imul(h ^ Math.floor(lastTradeMs / 1_000_003), 0x01000193);
  const delay = 1 + ((h >>> 0) % STORE_DELAY_SPREAD_MS);
  return Math.min(lastTradeMs + delay, Math.max(lastTradeMs, nowMs));
}
