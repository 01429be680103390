import type { Priority } from "../upstream/rate-limiter.js";

/**
 * How old a cached ticker or order book may be before a request of each priority goes to Upbit
 * instead, when the request does not say (`max_staleness_ms` 0).
 *
 * - CRITICAL 1,000 ms: trading bots act on prices; one second is the bound.
 * - HIGH 2,000 ms: screeners refresh every few seconds; twice a bot's bound still shows a
 *   current market while letting repeated screens of ~200 markets share one fetch.
 * - NORMAL 5,000 ms: people looking at a page cannot tell a few seconds apart.
 * - LOW 10,000 ms: backtesters and batch jobs barely care; the daemon keeps tickers and books
 *   for 10 s anyway (its default TTL), so this means "whatever the cache still holds".
 */
export const DEFAULT_MAX_STALENESS_MS: Readonly<Record<Priority, number>> = {
  CRITICAL: 1_000,
  HIGH: 2_000,
  NORMAL: 5_000,
  LOW: 10_000,
};

/** The request's bound when it set one, else its priority's default. */
export function maxStalenessMs(priority: Priority, requestedMs: number): number {
  return requestedMs > 0 ? requestedMs : DEFAULT_MAX_STALENESS_MS[priority];
}

/** A cached value stored at `storedAtMs` is fresh enough when it is at most `maxMs` old at `nowMs`. */
export function isFresh(storedAtMs: number, nowMs: number, maxMs: number): boolean {
  return nowMs - storedAtMs <= maxMs;
}
