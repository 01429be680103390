/**
 * The REST side of StreamTrades against a fake `/v1/trades/ticks` (a sorted list of made-up
 * trades answering count/cursor/days_ago like Upbit), and the sharing of one fetch by many
 * streams. The real simulator is in test/integration/gateway-stream-trades.test.ts.
 */
import { describe, expect, it } from "vitest";
import { backfillTrades, fetchLatestTrade, type TradePageFetcher } from "../../../src/gateway/realtime/trade-backfill.js";
import { SharedFetches } from "../../../src/gateway/realtime/trade-shared-fetch.js";
import type { TradeQuery } from "../../../src/gateway/upstream/upbit-rest-client.js";
import type { UpbitTrade } from "../../../src/gateway/upstream/upbit-types.js";
import { DAY_MS } from "../../../src/shared/time.js";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

function upbitTrade(ms: number, n = 0): UpbitTrade {
  return { market: "KRW-BTC", tradeTimestampMs: ms, tradePrice: 1, tradeVolume: 1, askBid: "BID", prevClosingPrice: 1, changePrice: 0, sequentialId: BigInt(ms) * 10_000n + BigInt(n) };
}

/** Today's trades only (days_ago answers nothing), newest first below the cursor, as Upbit pages. */
function fakeUpbit(trades: UpbitTrade[]): { fetch: TradePageFetcher; queries: TradeQuery[] } {
  const newestFirst = [...trades].sort((a, b) => b.tradeTimestampMs - a.tradeTimestampMs || Number(b.sequentialId - a.sequentialId));
  const queries: TradeQuery[] = [];
  return {
    queries,
    fetch: (q) => {
      queries.push(q);
      if (q.daysAgo !== undefined) return Promise.resolve([]);
      const cursor = q.cursor === undefined ? undefined : BigInt(q.cursor);
      return Promise.resolve(newestFirst.filter((t) => cursor === undefined || t.sequentialId < cursor).slice(0, q.count));
    },
  };
}

describe("backfillTrades", () => {
  it("fetches by cursor from now back to the start, ascending, including the start's own ms", async () => {
    const trades = Array.from({ length: 1_200 }, (_, i) => upbitTrade(NOW - 60_000 + i * 10, i % 2));
    const start = trades[100]!.tradeTimestampMs;
    const upbit = fakeUpbit(trades);
    const backfill = await backfillTrades(upbit.fetch, start, NOW);
    expect(backfill.trades.map((t) => Number(t.tradeTimeMs))).toEqual(trades.slice(100).map((t) => t.tradeTimestampMs));
    expect(backfill.lostBeforeMs).toBeUndefined();
    // Three pages of 500 walking back by cursor.
    expect(upbit.queries.map((q) => q.cursor !== undefined)).toEqual([false, true, true]);
  });

  it("says which part it could not fetch when the cap stops it", async () => {
    const trades = Array.from({ length: 100 }, (_, i) => upbitTrade(NOW - 1_000 + i));
    const backfill = await backfillTrades(fakeUpbit(trades).fetch, NOW - 1_000, NOW, 30);
    expect(backfill.trades).toHaveLength(30);
    expect(Number(backfill.trades[0]!.tradeTimeMs)).toBe(NOW - 1_000 + 70);
    expect(backfill.lostBeforeMs).toBe(NOW - 1_000 + 71);
  });

  it("says trades older than Upbit's 7 days are lost", async () => {
    const backfill = await backfillTrades(fakeUpbit([upbitTrade(NOW - 5)]).fetch, NOW - 9 * DAY_MS, NOW);
    expect(backfill.trades).toHaveLength(1);
    expect(backfill.lostBeforeMs).toBe(Date.UTC(2026, 0, 8));
  });

  it("reads the last trade with one call of count 1", async () => {
    const upbit = fakeUpbit([upbitTrade(NOW - 10), upbitTrade(NOW - 5, 3)]);
    const latest = await fetchLatestTrade(upbit.fetch);
    expect(latest?.sequentialId).toBe(BigInt(NOW - 5) * 10_000n + 3n);
    expect(upbit.queries).toEqual([{ count: 1 }]);
    expect(await fetchLatestTrade(fakeUpbit([]).fetch)).toBeUndefined();
  });
});

describe("SharedFetches", () => {
  it("runs one fetch for every caller of a key and forgets it once settled", async () => {
    const shared = new SharedFetches<number>();
    let started = 0;
    let finish!: (v: number) => void;
    const fetch = () => {
      started++;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const never = new AbortController().signal;
    const a = shared.run("k", never, fetch);
    const b = shared.run("k", never, fetch);
    expect(started).toBe(1);
    finish(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(shared.size).toBe(0);
    void shared.run("k", never, fetch);
    expect(started).toBe(2);
  });

  it("lets a caller leave without stopping the others, and aborts the fetch when the last one leaves", async () => {
    const shared = new SharedFetches<number>();
    let fetchSignal!: AbortSignal;
    let finish!: (v: number) => void;
    const fetch = (signal: AbortSignal) => {
      fetchSignal = signal;
      return new Promise<number>((resolve, reject) => {
        finish = resolve;
        signal.addEventListener("abort", () => reject(signal.reason));
      });
    };
    const first = new AbortController();
    const second = new AbortController();
    const a = shared.run("k", first.signal, fetch);
    const b = shared.run("k", second.signal, fetch);
    first.abort(new Error("first left"));
    await expect(a).rejects.toThrow("first left");
    expect(fetchSignal.aborted).toBe(false);
    second.abort(new Error("second left"));
    await expect(b).rejects.toThrow("second left");
    expect(fetchSignal.aborted).toBe(true);
    // A new caller starts afresh instead of joining the aborted fetch.
    const c = shared.run("k", new AbortController().signal, fetch);
    finish(3);
    expect(await c).toBe(3);
  });
});
