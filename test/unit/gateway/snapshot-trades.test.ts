import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { collectTrades, type FetchTradePage } from "../../../src/gateway/snapshots/trade-paging.js";
import {
  MAX_TRADES_PER_ANSWER,
  MAX_TRADES_PER_MARKET,
  oldestTradeDayMs,
  startPosition,
  tradeBounds,
  tradeCount,
} from "../../../src/gateway/snapshots/trade-window.js";
import type { TradeQuery } from "../../../src/gateway/upstream/upbit-rest-client.js";
import type { UpbitTrade } from "../../../src/gateway/upstream/upbit-types.js";
import { isUpstreamProtocolError } from "../../../src/gateway/upstream/upstream-errors.js";
import { DAY_MS } from "../../../src/shared/time.js";
import { answerOf } from "../../support/status-of.js";

const NOW = Date.UTC(2026, 2, 11, 14, 40, 59, 123);
const TODAY = Date.UTC(2026, 2, 11);

/** A market's trade history from `fromMs` to `NOW`, one trade every `everyMs`, newest first. */
function history(everyMs: number, fromMs = TODAY - 9 * DAY_MS): UpbitTrade[] {
  const out: UpbitTrade[] = [];
  for (let t = NOW - (NOW % everyMs); t >= fromMs; t -= everyMs) {
    out.push({
      market: "KRW-BTC",
      tradeTimestampMs: t,
      tradePrice: 100,
      tradeVolume: 1,
      askBid: "BID",
      prevClosingPrice: 100,
      changePrice: 0,
      sequentialId: BigInt(t) * 10_000n,
    });
  }
  return out;
}

/**
 * Upbit's `/v1/trades/ticks` over `all` (newest first), as API.md §1.10 describes it: one UTC
 * day per call (`days_ago`, absent = today), before `to` within that day, before `cursor`.
 */
function upbitLike(all: readonly UpbitTrade[], log: TradeQuery[] = []): FetchTradePage {
  return async (q) => {
    log.push({ ...q });
    const dayStart = TODAY - (q.daysAgo ?? 0) * DAY_MS;
    let end = Math.min(dayStart + DAY_MS, NOW + 1);
    if (q.to !== undefined) {
      const [h, m, s] = [q.to.slice(0, 2), q.to.slice(2, 4), q.to.slice(4, 6)].map(Number) as [number, number, number];
      end = Math.min(end, dayStart + ((h * 60 + m) * 60 + s) * 1000);
    }
    const cursor = q.cursor === undefined ? undefined : BigInt(q.cursor);
    return all
      .filter((t) => t.tradeTimestampMs >= dayStart && t.tradeTimestampMs < end && (cursor === undefined || t.sequentialId < cursor))
      .slice(0, q.count);
  };
}

const reachable = (all: readonly UpbitTrade[]) => all.filter((t) => t.tradeTimestampMs >= oldestTradeDayMs(NOW));

describe("tradeCount", () => {
  it("reads 0 as 1 and accepts up to the per-market cap", () => {
    expect(tradeCount(0, 1)).toBe(1);
    expect(tradeCount(1_200, 1)).toBe(1_200);
    expect(tradeCount(MAX_TRADES_PER_MARKET, 1)).toBe(MAX_TRADES_PER_MARKET);
  });

  it("refuses more than the caps, naming count", () => {
    const perMarket = answerOf(() => tradeCount(MAX_TRADES_PER_MARKET + 1, 1));
    expect(perMarket.code).toBe(status.INVALID_ARGUMENT);
    expect(perMarket.details).toMatch(/^count: 10001 /);
    const perAnswer = answerOf(() => tradeCount(MAX_TRADES_PER_MARKET, MAX_TRADES_PER_ANSWER / MAX_TRADES_PER_MARKET + 1));
    expect(perAnswer.code).toBe(status.INVALID_ARGUMENT);
    expect(perAnswer.details).toContain("count");
  });
});

describe("tradeBounds", () => {
  const oldest = TODAY - 7 * DAY_MS;

  it("accepts bounds inside the 7 UTC days Upbit keeps", () => {
    expect(tradeBounds(BigInt(oldest), BigInt(NOW - 1_000), NOW)).toEqual({ startMs: oldest, endMs: NOW - 1_000 });
    expect(tradeBounds(undefined, undefined, NOW)).toEqual({ startMs: undefined, endMs: undefined });
  });

  it("reads an end after now as now", () => {
    expect(tradeBounds(undefined, BigInt(NOW + DAY_MS), NOW)).toEqual({ startMs: undefined, endMs: undefined });
  });

  it("refuses a start or end older than Upbit keeps, naming the field and saying why", () => {
    const start = answerOf(() => tradeBounds(BigInt(oldest - 1), undefined, NOW));
    expect(start.code).toBe(status.INVALID_ARGUMENT);
    expect(start.details).toMatch(/^start_ms: .*older than Upbit keeps trades/);
    const end = answerOf(() => tradeBounds(undefined, BigInt(oldest), NOW));
    expect(end.details).toMatch(/^end_ms: .*older than Upbit keeps trades/);
  });

  it("refuses start >= end and a start in the future", () => {
    expect(answerOf(() => tradeBounds(BigInt(NOW - 10), BigInt(NOW - 10), NOW)).details).toMatch(/^start_ms: .*before end_ms/);
    expect(answerOf(() => tradeBounds(BigInt(NOW + 10), undefined, NOW)).details).toMatch(/^start_ms: .*future/);
    expect(answerOf(() => tradeBounds(-5n, undefined, NOW)).code).toBe(status.INVALID_ARGUMENT);
  });
});

describe("startPosition", () => {
  it("starts today without `to` when the end is now", () => {
    expect(startPosition(undefined, NOW)).toEqual({ daysAgo: 0, to: undefined });
  });

  it("names the UTC day of the end and the end within it, rounded up to the second", () => {
    expect(startPosition(TODAY - 2 * DAY_MS + 3_723_000, NOW)).toEqual({ daysAgo: 2, to: "010203" });
    expect(startPosition(TODAY - 2 * DAY_MS + 3_723_001, NOW)).toEqual({ daysAgo: 2, to: "010204" });
  });

  it("reads an end on midnight as the whole day before", () => {
    expect(startPosition(TODAY, NOW)).toEqual({ daysAgo: 1, to: undefined });
    expect(startPosition(TODAY - DAY_MS + 1, NOW)).toEqual({ daysAgo: 1, to: "000001" });
  });
});

describe("collectTrades", () => {
  it("pages 1,200 trades by cursor within today, newest first, without duplicates", async () => {
    const all = history(30_000);
    const log: TradeQuery[] = [];
    const { trades, pages } = await collectTrades(upbitLike(all, log), { count: 1_200, startMs: undefined, endMs: undefined }, NOW);
    expect(trades).toEqual(all.slice(0, 1_200));
    expect(pages).toBe(3);
    expect(log.map((q) => q.count)).toEqual([500, 500, 200]);
    expect(log[0]!.cursor).toBeUndefined();
    expect(log[1]!.cursor).toBe(all[499]!.sequentialId);
    expect(log[2]!.cursor).toBe(all[999]!.sequentialId);
    expect(log.every((q) => q.daysAgo === undefined)).toBe(true);
  });

  it("goes on with the previous UTC day when a day runs out", async () => {
    const all = history(600_000); // 144 trades a day; 89 so far today
    const log: TradeQuery[] = [];
    const { trades } = await collectTrades(upbitLike(all, log), { count: 500, startMs: undefined, endMs: undefined }, NOW);
    expect(trades).toEqual(all.slice(0, 500));
    expect(log.map((q) => q.daysAgo)).toEqual([undefined, 1, 2, 3]);
    // A new day starts from its newest trade, not from the old day's cursor.
    expect(log.every((q) => q.cursor === undefined)).toBe(true);
  });

  it("stops at Upbit's 7 days of history with what there is", async () => {
    const all = history(3_600_000);
    const log: TradeQuery[] = [];
    const { trades } = await collectTrades(upbitLike(all, log), { count: 5_000, startMs: undefined, endMs: undefined }, NOW);
    expect(trades).toEqual(reachable(all));
    expect(Math.max(...log.map((q) => q.daysAgo ?? 0))).toBe(7);
  });

  it("keeps trades before an end that is not on a whole second", async () => {
    const all = history(250, TODAY - DAY_MS);
    const endMs = TODAY - DAY_MS + 10 * 3_600_000 + 500;
    const log: TradeQuery[] = [];
    const { trades } = await collectTrades(upbitLike(all, log), { count: 10, startMs: undefined, endMs }, NOW);
    expect(log[0]).toMatchObject({ daysAgo: 1, to: "100001" });
    expect(trades).toEqual(all.filter((t) => t.tradeTimestampMs < endMs).slice(0, 10));
  });

  it("stops at the start bound without reading days entirely before it", async () => {
    const all = history(600_000);
    const startMs = TODAY - DAY_MS + 12 * 3_600_000;
    const log: TradeQuery[] = [];
    const { trades } = await collectTrades(upbitLike(all, log), { count: 5_000, startMs, endMs: undefined }, NOW);
    expect(trades).toEqual(all.filter((t) => t.tradeTimestampMs >= startMs));
    expect(log.map((q) => q.daysAgo)).toEqual([undefined, 1]);
  });

  it("fails rather than loop when Upbit ignores the cursor", async () => {
    const all = history(1_000, TODAY);
    const stuck: FetchTradePage = async (q) => all.slice(0, q.count);
    const error = await collectTrades(stuck, { count: 2_000, startMs: undefined, endMs: undefined }, NOW).catch((e: unknown) => e);
    expect(isUpstreamProtocolError(error)).toBe(true);
  });
});
