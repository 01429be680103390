/**
 * What a GetTrades request may ask, and where in Upbit's day-by-day trade history it starts.
 *
 * Upbit serves trades of today (UTC) and of the 7 UTC days before it (`days_ago` 1..7, API.md
 * §1.10); each `/v1/trades/ticks` call reads one UTC day, ending at `to` (`HHmmss`, UTC, within
 * that day) or at the trade before `cursor`.
 */
import { InvalidArgumentError } from "../../shared/errors.js";
import { bucketStart, DAY_MS, SECOND_MS } from "../../shared/time.js";
import { MAX_DAYS_AGO } from "../upstream/upbit-rest-client.js";

/**
 * Most trades per market one request may ask for: 20 pages of Upbit's 500, about 2 s of one
 * rate group's budget per market. Bigger histories are a job for a stream, not a unary call.
 */
export const MAX_TRADES_PER_MARKET = 10_000;
/**
 * Most trades one answer may hold over all its markets: ~80 bytes each on the wire keeps the
 * answer under gRPC's default 4 MiB receive limit, which most client stubs keep.
 */
export const MAX_TRADES_PER_ANSWER = 40_000;

export interface TradeWindow {
  /** Trades per market, newest first. */
  count: number;
  /** Inclusive lower bound, UTC ms. */
  startMs: number | undefined;
  /** Exclusive upper bound, UTC ms; undefined = now. */
  endMs: number | undefined;
}

/** Start of the oldest UTC day Upbit still serves trades of. */
export function oldestTradeDayMs(nowMs: number): number {
  return bucketStart("1d", nowMs) - MAX_DAYS_AGO * DAY_MS;
}

/** Trades per market: 0 = 1 (Upbit's default), at most MAX_TRADES_PER_MARKET and the answer cap. */
export function tradeCount(count: number, markets: number): number {
  const n = count === 0 ? 1 : count;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRADES_PER_MARKET) {
    throw new InvalidArgumentError("count", String(count), `must be 1 to ${MAX_TRADES_PER_MARKET} trades per market (0 = 1)`);
  }
  if (n * markets > MAX_TRADES_PER_ANSWER) {
    throw new InvalidArgumentError("count", String(count), `times ${markets} markets is more than the ${MAX_TRADES_PER_ANSWER} trades one answer may hold`);
  }
  return n;
}

/** `start_ms`/`end_ms` checked against each other and against the 7 UTC days Upbit keeps. */
export function tradeBounds(startMs: bigint | undefined, endMs: bigint | undefined, nowMs: number): Pick<TradeWindow, "startMs" | "endMs"> {
  const oldest = oldestTradeDayMs(nowMs);
  const tooOld = `is older than Upbit keeps trades: today and the ${MAX_DAYS_AGO} UTC days before, i.e. since ${new Date(oldest).toISOString()}`;
  const end = endMs === undefined ? undefined : epochMs("end_ms", endMs);
  const start = startMs === undefined ? undefined : epochMs("start_ms", startMs);
  if (end !== undefined && end <= oldest) throw new InvalidArgumentError("end_ms", String(end), tooOld);
  if (start !== undefined) {
    if (start < oldest) throw new InvalidArgumentError("start_ms", String(start), tooOld);
    if (end !== undefined && start >= end) throw new InvalidArgumentError("start_ms", String(start), `must be before end_ms (${end})`);
    if (end === undefined && start > nowMs) throw new InvalidArgumentError("start_ms", String(start), `is in the future (now is ${nowMs})`);
  }
  // An end after now asks for everything up to now.
  return { startMs: start, endMs: end !== undefined && end <= nowMs ? end : undefined };
}

function epochMs(field: string, value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(field, String(value), "is not UTC epoch milliseconds");
  return n;
}

/** Where a read of Upbit's history starts: which UTC day, and the end time within it. */
export interface DayPosition {
  /** 0 = today (UTC), 1..7 = that many UTC days back. */
  daysAgo: number;
  /** `HHmmss` (UTC) within that day; undefined = the whole day. */
  to: string | undefined;
}

/**
 * The position of the newest trade before `endMs` (undefined = now). Upbit's `to` has whole
 * seconds, so it is rounded up; the caller drops trades at or after `endMs` itself.
 */
export function startPosition(endMs: number | undefined, nowMs: number): DayPosition {
  if (endMs === undefined) return { daysAgo: 0, to: undefined };
  const dayStart = bucketStart("1d", endMs - 1);
  const daysAgo = Math.round((bucketStart("1d", nowMs) - dayStart) / DAY_MS);
  const withinDayMs = Math.ceil((endMs - dayStart) / SECOND_MS) * SECOND_MS;
  return { daysAgo, to: withinDayMs >= DAY_MS ? undefined : hhmmss(withinDayMs) };
}

function hhmmss(withinDayMs: number): string {
  const s = Math.floor(withinDayMs / SECOND_MS);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(s / 3600))}${two(Math.floor(s / 60) % 60)}${two(s % 60)}`;
}
