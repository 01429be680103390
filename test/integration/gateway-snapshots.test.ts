/**
 * ListMarkets, GetTickers, GetOrderbooks and GetTrades end to end: a gRPC client, the gateway,
 * the real storage daemon process and the simulator standing in for Upbit. Upstream traffic is
 * read from the simulator's own counters (`/_sim/stats`), never from the gateway's word alone.
 */
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MarketDataService, Priority, Source } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";

import { parseMarkets } from "../../src/gateway/upstream/upbit-rest-parsers.js";
import { type GrpcClient } from "../../src/shared/grpc/client.js";

import { DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { stopDaemon } from "../support/daemon-process.js";
import { startFront } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

type Client = GrpcClient<typeof MarketDataService>;

/** The gRPC error of a call that must fail. */
async function failureOf(call: Promise<unknown>): Promise<ServiceError> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e as ServiceError,
  );
  if (outcome === undefined) throw new Error("the call succeeded; a failure was expected");
  return outcome;
}

/** Upstream requests per simulator group made while `fn` ran. */
async function trafficOf<T>(stack: Stack, fn: () => Promise<T>): Promise<{ result: T; calls: Record<string, number> }> {
  const before = await stack.traffic();
  const result = await fn();
  const after = await stack.traffic();
  const calls: Record<string, number> = {};
  for (const [group, t] of Object.entries(after)) calls[group] = t.requests - (before[group]?.requests ?? 0);
  return { result, calls };
}

/**
 * A second gateway front whose clock the test sets: freshness is then decided by the test, not
 * by how fast this machine runs.
 */
async function clockedFront(stack: Stack): Promise<{ client: Client; clock: { pinnedMs: number | undefined }; close(): Promise<void> }> {
  const clock: { pinnedMs: number | undefined } = { pinnedMs: undefined };
  const front = await startFront(stack, { now: () => clock.pinnedMs ?? Date.now() });
  return { client: front.client, clock, close: () => front.close() };
}

/** Waits until the daemon's realtime cache holds a ticker of each market stored after `afterMs`; returns the newest storedAt. */
async function tickersStored(stack: Stack, markets: readonly string[], afterMs = 0): Promise<number> {
  return vi.waitFor(
    async () => {
      const res = await stack.daemon.client.getRealtime({ tickerMarkets: [...markets] });
      const stored = res.tickers.filter((t) => Number(t.storedAtMs) > afterMs);
      if (stored.length !== markets.length) throw new Error(`${stored.length} of ${markets.length} tickers stored so far`);
      return Math.max(...stored.map((t) => Number(t.storedAtMs)));
    },
    { timeout: 10_000, interval: 20 },
  );
}

describe("snapshot RPCs end to end", () => {
  let stack: Stack;
  let krw: string[];
  let btc: string[];
  let usdt: string[];

  beforeAll(async () => {
    stack = await startStack();
    const { markets } = await stack.client.listMarkets({});
    const ofQuote = (q: string) => markets.filter((m) => m.quoteCurrency === q).map((m) => m.market);
    [krw, btc, usdt] = [ofQuote("KRW"), ofQuote("BTC"), ofQuote("USDT")];
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe("ListMarkets", () => {
    it("lists Upbit's markets in Upbit's order with their warning and caution flags", async () => {
      const upbit = parseMarkets(await (await fetch(`${stack.restUrl}/v1/market/all?is_details=true`)).text());
      const { markets, meta } = await stack.client.listMarkets({ priority: Priority.HIGH });
      expect(markets.map((m) => m.market)).toEqual(upbit.map((m) => m.market));
      for (const [i, m] of markets.entries()) {
        const u = upbit[i]!;
        expect(m.quoteCurrency).toBe(u.market.split("-")[0]);
        expect(m.baseCurrency).toBe(u.market.split("-")[1]);
        expect(m.englishName).toBe(u.englishName);
        expect(m.marketEvent?.warning).toBe(u.warning ?? false);
        expect(m.marketEvent?.cautionPriceFluctuations).toBe(u.caution?.PRICE_FLUCTUATIONS ?? false);
        expect(m.marketEvent?.cautionConcentrationOfSmallAccounts).toBe(u.caution?.CONCENTRATION_OF_SMALL_ACCOUNTS ?? false);
      }
      // The simulator flags a few markets; the mapping must have something to carry.
      expect(markets.some((m) => m.marketEvent?.warning)).toBe(true);
      expect(meta).toMatchObject({ priority: Priority.HIGH, complete: true, upstreamCalls: 0, source: Source.REALTIME_CACHE });
    });

    it("filters by quote currency and refuses a malformed one, naming it", async () => {
      const { markets } = await stack.client.listMarkets({ quoteCurrencies: ["USDT", "BTC"] });
      expect(markets.map((m) => m.market)).toEqual(markets.map((m) => m.market).filter((c) => !c.startsWith("KRW-")));
      expect(markets).toHaveLength(btc.length + usdt.length);
      const bad = await failureOf(stack.client.listMarkets({ quoteCurrencies: ["krw"] }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.details).toContain("quote_currencies[0]");
    });
  });

  describe("GetTickers", () => {
    it("serves every KRW market via quote_currencies in several parallel upstream calls", async () => {
      // First ticker request of the stack: nothing is cached yet.
      const { result, calls } = await trafficOf(stack, () => stack.client.getTickers({ quoteCurrencies: ["KRW"], maxStalenessMs: 1 }));
      expect(result.tickers.map((t) => t.market)).toEqual(krw);
      expect(krw.length).toBeGreaterThan(100);
      expect(result.meta).toMatchObject({ source: Source.UPSTREAM, splits: Math.ceil(krw.length / 100), priority: Priority.NORMAL, complete: true });
      expect(result.meta!.splits).toBeGreaterThanOrEqual(2);
      expect(calls["ticker"]).toBe(result.meta!.splits);
      expect(result.meta!.upstreamCalls).toBe(calls["ticker"]! + calls["market"]!);
      for (const t of result.tickers) {
        expect(t.tradePrice).toBeGreaterThan(0);
        expect(t.highest52WeekDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(t.timestampMs).toBeGreaterThan(0n);
      }
    });

    it("answers named markets plus a quote's markets in request order, duplicates collapsed", async () => {
      const named = [usdt[1]!, "KRW-BTC", usdt[1]!, btc[0]!];
      const { tickers } = await stack.client.getTickers({ markets: named, quoteCurrencies: ["USDT"], maxStalenessMs: 1 });
      const expected = [usdt[1]!, "KRW-BTC", btc[0]!, ...usdt.filter((c) => c !== usdt[1])];
      expect(tickers.map((t) => t.market)).toEqual(expected);
    });

    it("serves a second CRITICAL call within 1 s from the realtime cache, and goes upstream once it is older", async () => {
      const front = await clockedFront(stack);
      try {
        const markets = btc.slice(2, 5);
        const critical = { markets, priority: Priority.CRITICAL };
        const first = await trafficOf(stack, () => front.client.getTickers(critical));
        expect(first.result.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 1, splits: 1, priority: Priority.CRITICAL });
        expect(first.calls["ticker"]).toBe(1);
        const storedAt = await tickersStored(stack, markets);

        front.clock.pinnedMs = storedAt + 500;
        const cached = await trafficOf(stack, () => front.client.getTickers(critical));
        expect(cached.result.meta).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0, splits: 0 });
        expect(cached.calls["ticker"]).toBe(0);
        expect(cached.result.tickers).toEqual(first.result.tickers);

        // LOW tolerates 10 s by default, NORMAL 5 s.
        front.clock.pinnedMs = storedAt + 7_000;
        const low = await trafficOf(stack, () => front.client.getTickers({ markets, priority: Priority.LOW }));
        expect(low.result.meta).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0 });

        front.clock.pinnedMs = storedAt + 1_001;
        const stale = await trafficOf(stack, () => front.client.getTickers(critical));
        expect(stale.result.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 1 });
        expect(stale.calls["ticker"]).toBe(1);

        // The refetched tickers replace the cached ones; a request's own bound beats the default.
        const restoredAt = await tickersStored(stack, markets, storedAt);
        front.clock.pinnedMs = restoredAt + 500;
        const strict = await trafficOf(stack, () => front.client.getTickers({ ...critical, maxStalenessMs: 100 }));
        expect(strict.result.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 1 });
        expect(strict.calls["ticker"]).toBe(1);
      } finally {
        await front.close();
      }
    });

    it("mixes cached and upstream tickers, fetching only the markets not fresh in the cache", async () => {
      const front = await clockedFront(stack);
      try {
        const cachedMarkets = btc.slice(6, 8);
        await front.client.getTickers({ markets: cachedMarkets, priority: Priority.HIGH });
        const storedAt = await tickersStored(stack, cachedMarkets);
        front.clock.pinnedMs = storedAt + 100;
        const markets = [btc[8]!, ...cachedMarkets, btc[9]!];
        const { result, calls } = await trafficOf(stack, () => front.client.getTickers({ markets, priority: Priority.HIGH }));
        expect(result.tickers.map((t) => t.market)).toEqual(markets);
        expect(result.meta).toMatchObject({ source: Source.MIXED, upstreamCalls: 1, splits: 1 });
        expect(calls["ticker"]).toBe(1);
      } finally {
        await front.close();
      }
    });

    it("names an unknown market NOT_FOUND and a malformed one INVALID_ARGUMENT, without asking upstream", async () => {
      const { result: unknown, calls } = await trafficOf(stack, () => failureOf(stack.client.getTickers({ markets: ["KRW-BTC", "KRW-NOSUCHCOIN"] })));
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toContain("markets[1]");
      expect(unknown.details).toContain("KRW-NOSUCHCOIN");
      expect(calls["ticker"]).toBe(0);

      const lower = await failureOf(stack.client.getTickers({ markets: ["KRW-BTC", "KRW-ETH", "krw-xrp"] }));
      expect(lower.code).toBe(status.INVALID_ARGUMENT);
      expect(lower.details).toContain("markets[2]");
      expect(lower.details).toContain("krw-xrp");

      const empty = await failureOf(stack.client.getTickers({}));
      expect(empty.code).toBe(status.INVALID_ARGUMENT);
      expect(empty.details).toContain("markets");

      const noSuchQuote = await failureOf(stack.client.getTickers({ quoteCurrencies: ["EUR"] }));
      expect(noSuchQuote.code).toBe(status.NOT_FOUND);
      expect(noSuchQuote.details).toContain("quote_currencies[0]");

      const priority = await failureOf(stack.client.getTickers({ markets: ["KRW-BTC"], priority: 9 as Priority }));
      expect(priority.code).toBe(status.INVALID_ARGUMENT);
      expect(priority.details).toContain("priority");
    });
  });

  describe("GetOrderbooks", () => {
    it("serves several books at depth 5, best first, with totals over those levels", async () => {
      const markets = ["KRW-BTC", usdt[0]!, btc[0]!, "KRW-ETH"];
      const { result, calls } = await trafficOf(stack, () => stack.client.getOrderbooks({ markets, depth: 5, priority: Priority.HIGH }));
      expect(result.orderbooks.map((b) => b.market)).toEqual(markets);
      expect(result.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 1, splits: 1, priority: Priority.HIGH });
      expect(calls["orderbook"]).toBe(1);
      for (const b of result.orderbooks) {
        expect(b.units.length).toBeGreaterThan(0);
        expect(b.units.length).toBeLessThanOrEqual(5);
        expect(b.level).toBe(0);
        expect(b.timestampMs).toBeGreaterThan(0n);
        for (let i = 1; i < b.units.length; i++) {
          expect(b.units[i]!.askPrice).toBeGreaterThan(b.units[i - 1]!.askPrice);
          expect(b.units[i]!.bidPrice).toBeLessThan(b.units[i - 1]!.bidPrice);
        }
        expect(b.units[0]!.bidPrice).toBeLessThan(b.units[0]!.askPrice);
        expect(b.totalAskSize).toBeCloseTo(b.units.reduce((s, u) => s + u.askSize, 0), 8);
        expect(b.totalBidSize).toBeCloseTo(b.units.reduce((s, u) => s + u.bidSize, 0), 8);
      }
    });

    it("keeps whole books in the cache, so a deeper request right after is served from it", async () => {
      const front = await clockedFront(stack);
      try {
        const markets = [usdt[2]!, usdt[3]!];
        await front.client.getOrderbooks({ markets, depth: 1, priority: Priority.NORMAL });
        const storedAt = await vi.waitFor(
          async () => {
            const res = await stack.daemon.client.getRealtime({ orderbookMarkets: markets });
            if (res.orderbooks.length !== markets.length) throw new Error("books not stored yet");
            return Math.max(...res.orderbooks.map((b) => Number(b.storedAtMs)));
          },
          { timeout: 10_000, interval: 20 },
        );
        front.clock.pinnedMs = storedAt + 100;
        const { result, calls } = await trafficOf(stack, () => front.client.getOrderbooks({ markets, depth: 0, priority: Priority.NORMAL }));
        expect(result.meta).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0 });
        expect(calls["orderbook"]).toBe(0);
        expect(result.orderbooks.map((b) => b.units.length)).toEqual([30, 30]);
      } finally {
        await front.close();
      }
    });

    it("refuses a depth above 30 and an unknown market, naming them", async () => {
      const depth = await failureOf(stack.client.getOrderbooks({ markets: ["KRW-BTC"], depth: 31 }));
      expect(depth.code).toBe(status.INVALID_ARGUMENT);
      expect(depth.details).toContain("depth");
      const unknown = await failureOf(stack.client.getOrderbooks({ markets: ["KRW-BTC", "BTC-NOSUCHCOIN"] }));
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toContain("markets[1]");
    });
  });

  describe("GetTrades", () => {
    it("pages 1,200 trades by cursor: no duplicate ids, strictly newest first", async () => {
      const { result, calls } = await trafficOf(stack, () => stack.client.getTrades({ markets: ["KRW-BTC"], count: 1_200, priority: Priority.NORMAL }));
      const { trades, meta } = result;
      expect(trades).toHaveLength(1_200);
      expect(trades.every((t) => t.market === "KRW-BTC")).toBe(true);
      expect(new Set(trades.map((t) => t.sequentialId)).size).toBe(1_200);
      for (let i = 1; i < trades.length; i++) {
        expect(trades[i]!.tradeTimeMs).toBeLessThanOrEqual(trades[i - 1]!.tradeTimeMs);
        // The simulator's ids encode time then order (ms x 10000 + n), so newer is strictly larger.
        expect(trades[i]!.sequentialId).toBeLessThan(trades[i - 1]!.sequentialId);
      }
      expect(trades.every((t) => t.timestampMs === 0n && t.tradePrice > 0)).toBe(true);
      expect(meta!.upstreamCalls).toBeGreaterThanOrEqual(3);
      expect(meta).toMatchObject({ source: Source.UPSTREAM, splits: meta!.upstreamCalls, complete: true });
      expect(calls["crix-trades"]).toBe(meta!.upstreamCalls);
    });

    it("groups trades by market in request order and keeps them inside start_ms/end_ms", async () => {
      const end = Date.now() - MINUTE_MS;
      const start = end - 30 * MINUTE_MS;
      const { trades } = await stack.client.getTrades({ markets: ["KRW-ETH", "KRW-BTC", "KRW-ETH"], count: 20, startMs: BigInt(start), endMs: BigInt(end) });
      const markets = trades.map((t) => t.market);
      expect(markets.indexOf("KRW-BTC")).toBeGreaterThan(markets.lastIndexOf("KRW-ETH"));
      expect(markets.filter((m) => m === "KRW-ETH").length).toBeLessThanOrEqual(20);
      expect(markets.filter((m) => m === "KRW-BTC").length).toBeGreaterThan(0);
      for (const t of trades) {
        expect(Number(t.tradeTimeMs)).toBeGreaterThanOrEqual(start);
        expect(Number(t.tradeTimeMs)).toBeLessThan(end);
      }
      const { trades: one } = await stack.client.getTrades({ markets: ["KRW-BTC"] });
      expect(one).toHaveLength(1);
    });

    it("refuses trades older than Upbit keeps, bad bounds and bad counts, naming the field", async () => {
      const { result: old, calls } = await trafficOf(stack, () =>
        failureOf(stack.client.getTrades({ markets: ["KRW-BTC"], startMs: BigInt(Date.now() - 9 * DAY_MS) })),
      );
      expect(old.code).toBe(status.INVALID_ARGUMENT);
      expect(old.details).toMatch(/^start_ms: .*older than Upbit keeps trades/);
      expect(calls["crix-trades"]).toBe(0);

      const end = Date.now() - DAY_MS;
      const reversed = await failureOf(stack.client.getTrades({ markets: ["KRW-BTC"], startMs: BigInt(end), endMs: BigInt(end - 1) }));
      expect(reversed.code).toBe(status.INVALID_ARGUMENT);
      expect(reversed.details).toContain("start_ms");

      const tooMany = await failureOf(stack.client.getTrades({ markets: ["KRW-BTC"], count: 10_001 }));
      expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
      expect(tooMany.details).toContain("count");

      const lower = await failureOf(stack.client.getTrades({ markets: ["krw-btc"] }));
      expect(lower.code).toBe(status.INVALID_ARGUMENT);
      expect(lower.details).toContain("markets[0]");

      const unknown = await failureOf(stack.client.getTrades({ markets: ["KRW-NOSUCHCOIN"] }));
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toContain("KRW-NOSUCHCOIN");
    });
  });
});

describe("snapshot RPCs with the storage daemon down", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("still serves tickers and order books, from upstream", async () => {
    await stopDaemon(stack.daemon);
    const markets = ["KRW-BTC", "KRW-ETH"];
    const { result, calls } = await trafficOf(stack, () => stack.client.getTickers({ markets, priority: Priority.CRITICAL }));
    expect(result.tickers.map((t) => t.market)).toEqual(markets);
    expect(result.meta).toMatchObject({ source: Source.UPSTREAM, splits: 1 });
    expect(calls["ticker"]).toBe(1);
    // Again: nothing was cached, and nothing fails for it.
    const again = await stack.client.getTickers({ markets, priority: Priority.CRITICAL });
    expect(again.meta).toMatchObject({ source: Source.UPSTREAM });
    const books = await stack.client.getOrderbooks({ markets, depth: 3 });
    expect(books.orderbooks.map((b) => b.units.length)).toEqual([3, 3]);
  });
});
