import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  OrderbookSchema,
  TickerSchema,
  TradeSchema,
  type Orderbook,
  type Ticker,
  type Trade,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { RealtimeCache, type RealtimeCacheOptions } from "../../src/storage-daemon/realtime-cache.js";

const T0 = 1_700_000_000_000;

function ticker(market: string, timestampMs: number, tradePrice = 1): Ticker {
  return create(TickerSchema, { market, timestampMs: BigInt(timestampMs), tradePrice });
}

function book(market: string, timestampMs: number, totalAskSize = 1): Orderbook {
  return create(OrderbookSchema, { market, timestampMs: BigInt(timestampMs), totalAskSize });
}

function trade(market: string, sequentialId: number, tradeTimeMs: number): Trade {
  return create(TradeSchema, {
    market,
    sequentialId: BigInt(sequentialId),
    tradeTimeMs: BigInt(tradeTimeMs),
  });
}

const ids = (trades: readonly Trade[]): number[] => trades.map((t) => Number(t.sequentialId));

const open: RealtimeCache[] = [];

/** A cache on a clock the test moves by hand. */
function setup(options: Omit<RealtimeCacheOptions, "now"> = {}): {
  cache: RealtimeCache;
  advance: (ms: number) => void;
} {
  let now = T0;
  const cache = new RealtimeCache({ ...options, now: () => now });
  open.push(cache);
  return { cache, advance: (ms) => (now += ms) };
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
  vi.useRealTimers();
});

describe("RealtimeCache latest wins", () => {
  it("ignores an older ticker and replaces with an equal or newer one", () => {
    const { cache } = setup();
    expect(cache.putTickers([ticker("KRW-BTC", 2_000, 10)])).toEqual({ accepted: 1, ignored: 0 });
    expect(cache.putTickers([ticker("KRW-BTC", 1_999, 20)])).toEqual({ accepted: 0, ignored: 1 });
    expect(cache.getTicker("KRW-BTC")?.value.tradePrice).toBe(10);

    expect(cache.putTickers([ticker("KRW-BTC", 2_000, 30), ticker("KRW-BTC", 2_001, 40)])).toEqual({
      accepted: 2,
      ignored: 0,
    });
    expect(cache.getTicker("KRW-BTC")?.value.tradePrice).toBe(40);
  });

  it("keeps the newest order book per market within one batch", () => {
    const { cache } = setup();
    const result = cache.putOrderbooks([book("KRW-ETH", 5, 1), book("KRW-ETH", 3, 2), book("KRW-XRP", 1, 3)]);
    expect(result).toEqual({ accepted: 2, ignored: 1 });
    expect(cache.getOrderbook("KRW-ETH")?.value.totalAskSize).toBe(1);
    expect(cache.getOrderbook("KRW-XRP")?.value.totalAskSize).toBe(3);
  });

  it("lets an older value in once the held one has expired", () => {
    const { cache, advance } = setup({ ttlMs: { ticker: 1_000 } });
    cache.putTickers([ticker("KRW-BTC", 2_000, 10)]);
    advance(1_000);
    expect(cache.putTickers([ticker("KRW-BTC", 1_000, 20)])).toEqual({ accepted: 1, ignored: 0 });
    expect(cache.getTicker("KRW-BTC")?.value.tradePrice).toBe(20);
  });

  it("records when the value was stored", () => {
    const { cache, advance } = setup();
    advance(42);
    cache.putTickers([ticker("KRW-BTC", 1)]);
    expect(cache.getTicker("KRW-BTC")?.storedAtMs).toBe(T0 + 42);
  });
});

describe("RealtimeCache TTL", () => {
  it.each([
    ["default ticker", {}, 10_000],
    ["custom ticker", { ticker: 250 }, 250],
  ])("expires tickers at the ttl (%s)", (_name, ttlMs, ttl) => {
    const { cache, advance } = setup({ ttlMs });
    cache.putTickers([ticker("KRW-BTC", 1)]);
    advance(ttl - 1);
    expect(cache.getTicker("KRW-BTC")).toBeDefined();
    advance(1);
    expect(cache.getTicker("KRW-BTC")).toBeUndefined();
  });

  it("applies each kind's own ttl", () => {
    const { cache, advance } = setup({ ttlMs: { ticker: 100, orderbook: 200, trades: 300 } });
    cache.putTickers([ticker("M", 1)]);
    cache.putOrderbooks([book("M", 1)]);
    cache.putTrades([trade("M", 1, 1)]);

    advance(99);
    expect(cache.getTicker("M")).toBeDefined();
    advance(1);
    expect(cache.getTicker("M")).toBeUndefined();
    expect(cache.getOrderbook("M")).toBeDefined();

    advance(99);
    expect(cache.getOrderbook("M")).toBeDefined();
    advance(1);
    expect(cache.getOrderbook("M")).toBeUndefined();
    expect(cache.getTrades("M")).toBeDefined();

    advance(99);
    expect(cache.getTrades("M")).toBeDefined();
    advance(1);
    expect(cache.getTrades("M")).toBeUndefined();

    expect(cache.stats().map((s) => s.entries)).toEqual([0, 0, 0]);
  });

  it("uses default ttls of 10s for books and 60s for trades", () => {
    const { cache, advance } = setup();
    cache.putOrderbooks([book("M", 1)]);
    cache.putTrades([trade("M", 1, 1)]);
    advance(9_999);
    expect(cache.getOrderbook("M")).toBeDefined();
    advance(1);
    expect(cache.getOrderbook("M")).toBeUndefined();
    advance(49_999);
    expect(cache.getTrades("M")).toBeDefined();
    advance(1);
    expect(cache.getTrades("M")).toBeUndefined();
  });

  it("refreshes the trades entry whenever a trade is accepted, but not on duplicates", () => {
    const { cache, advance } = setup({ ttlMs: { trades: 1_000 } });
    cache.putTrades([trade("M", 1, 1)]);
    advance(900);
    cache.putTrades([trade("M", 2, 2)]);
    advance(900);
    expect(cache.getTrades("M")?.storedAtMs).toBe(T0 + 900);
    cache.putTrades([trade("M", 2, 2)]);
    advance(100);
    expect(cache.getTrades("M")).toBeUndefined();
  });

  it("starts a fresh trade list once the market's entry has expired", () => {
    const { cache, advance } = setup({ ttlMs: { trades: 1_000 } });
    cache.putTrades([trade("M", 1, 1), trade("M", 2, 2)]);
    advance(1_000);
    expect(cache.putTrades([trade("M", 2, 2), trade("M", 3, 3)])).toEqual({ accepted: 2, ignored: 0 });
    expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual([3, 2]);
  });

  it("removes expired entries from memory without reads (node-cache sweep)", () => {
    vi.useFakeTimers({ now: T0 });
    const cache = new RealtimeCache({ ttlMs: { ticker: 1_000, orderbook: 1_000, trades: 1_000 } });
    open.push(cache);
    cache.putTickers([ticker("A", 1), ticker("B", 1)]);
    cache.putOrderbooks([book("A", 1)]);
    cache.putTrades([trade("A", 1, 1)]);
    expect(cache.stats().map((s) => s.entries)).toEqual([2, 1, 1]);
    vi.advanceTimersByTime(2_500);
    expect(cache.stats().map((s) => s.entries)).toEqual([0, 0, 0]);
  });
});

describe("RealtimeCache trades", () => {
  it("dedupes by sequentialId, orders newest first and counts ignored", () => {
    const { cache } = setup();
    expect(cache.putTrades([trade("M", 10, 100), trade("M", 11, 100), trade("M", 9, 90)])).toEqual({
      accepted: 3,
      ignored: 0,
    });
    expect(
      cache.putTrades([trade("M", 11, 100), trade("M", 12, 95), trade("M", 12, 95), trade("N", 1, 1)]),
    ).toEqual({ accepted: 2, ignored: 2 });
    expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual([11, 10, 12, 9]);
    expect(ids(cache.getTrades("N")?.trades ?? [])).toEqual([1]);
  });

  it("trims to maxTradesPerMarket keeping the newest, and applies limit", () => {
    const { cache } = setup({ maxTradesPerMarket: 3 });
    cache.putTrades([1, 2, 3, 4, 5].map((i) => trade("M", i, i * 10)));
    expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual([5, 4, 3]);
    cache.putTrades([trade("M", 6, 35)]);
    expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual([5, 4, 6]);

    expect(ids(cache.getTrades("M", 2)?.trades ?? [])).toEqual([5, 4]);
    expect(ids(cache.getTrades("M", 0)?.trades ?? [])).toEqual([5, 4, 6]);
    expect(ids(cache.getTrades("M", 99)?.trades ?? [])).toEqual([5, 4, 6]);
    expect(cache.getTrades("M", 1)?.market).toBe("M");
  });

  it("never changes a list a reader already holds", () => {
    const { cache } = setup();
    cache.putTrades([trade("M", 1, 1)]);
    const before = cache.getTrades("M");
    cache.putTrades([trade("M", 2, 2)]);
    expect(ids(before?.trades ?? [])).toEqual([1]);
    expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual([2, 1]);
  });

  it("holds a sorted, duplicate-free, bounded list for any input (property)", () => {
    // A trade's time derives from its id: the feed never reuses an id for a different trade.
    const timeOf = (id: number): number => id % 11;
    const batchArb = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 20 });
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 6 }), (batches) => {
        const { cache } = setup({ maxTradesPerMarket: 7 });
        for (const batch of batches) cache.putTrades(batch.map((id) => trade("M", id, timeOf(id))));
        const expected = [...new Set(batches.flat())]
          .sort((a, b) => timeOf(b) - timeOf(a) || b - a)
          .slice(0, 7);
        expect(ids(cache.getTrades("M")?.trades ?? [])).toEqual(expected);
      }),
    );
  });
});

describe("RealtimeCache bounded memory", () => {
  it("never holds more than maxEntriesPerKind markets and keeps the newest", () => {
    const max = 50;
    const { cache } = setup({ maxEntriesPerKind: max });
    const markets = Array.from({ length: max * 10 }, (_, i) => `KRW-M${i}`);
    for (const m of markets) {
      cache.putTickers([ticker(m, 1)]);
      cache.putOrderbooks([book(m, 1)]);
      cache.putTrades([trade(m, 1, 1)]);
      for (const s of cache.stats()) expect(s.entries).toBeLessThanOrEqual(max);
    }
    expect(cache.stats().map((s) => s.entries)).toEqual([max, max, max]);
    for (const m of markets.slice(-max)) {
      expect(cache.getTicker(m)).toBeDefined();
      expect(cache.getOrderbook(m)).toBeDefined();
      expect(cache.getTrades(m)).toBeDefined();
    }
    expect(cache.getTicker(markets[markets.length - max - 1] ?? "")).toBeUndefined();
    expect(cache.getTicker(markets[0] ?? "")).toBeUndefined();
  });

  it("evicts the least recently stored market, counting updates as stores", () => {
    const { cache } = setup({ maxEntriesPerKind: 2 });
    cache.putTickers([ticker("A", 1), ticker("B", 1)]);
    cache.putTickers([ticker("A", 2)]);
    cache.putTickers([ticker("C", 1)]);
    expect(cache.getTicker("A")).toBeDefined();
    expect(cache.getTicker("B")).toBeUndefined();
    expect(cache.getTicker("C")).toBeDefined();
  });

  it("rejects bounds and ttls that are not positive integers", () => {
    expect(() => new RealtimeCache({ maxEntriesPerKind: 0 })).toThrow(RangeError);
    expect(() => new RealtimeCache({ maxTradesPerMarket: -1 })).toThrow(RangeError);
    expect(() => new RealtimeCache({ ttlMs: { trades: 0 } })).toThrow(RangeError);
  });
});

describe("RealtimeCache stats and lifecycle", () => {
  it("counts hits and misses per kind", () => {
    const { cache, advance } = setup({ ttlMs: { ticker: 100 } });
    expect(cache.stats()).toEqual([
      { kind: "ticker", entries: 0, hits: 0, misses: 0, hitRatio: 0 },
      { kind: "orderbook", entries: 0, hits: 0, misses: 0, hitRatio: 0 },
      { kind: "trades", entries: 0, hits: 0, misses: 0, hitRatio: 0 },
    ]);
    cache.putTickers([ticker("A", 1)]);
    cache.getTicker("A");
    cache.getTicker("A");
    cache.getTicker("B");
    advance(100);
    cache.getTicker("A"); // expired: a miss
    cache.getOrderbook("A");
    cache.putTrades([trade("A", 1, 1)]);
    cache.getTrades("A", 1);

    const [t, o, tr] = cache.stats();
    expect(t).toEqual({ kind: "ticker", entries: 0, hits: 2, misses: 2, hitRatio: 0.5 });
    expect(o).toEqual({ kind: "orderbook", entries: 0, hits: 0, misses: 1, hitRatio: 0 });
    expect(tr).toEqual({ kind: "trades", entries: 1, hits: 1, misses: 0, hitRatio: 1 });
  });

  it("close() clears the sweep timers so nothing keeps the process alive", () => {
    vi.useFakeTimers();
    const before = vi.getTimerCount();
    const cache = new RealtimeCache();
    expect(vi.getTimerCount()).toBe(before + 3);
    cache.close();
    expect(vi.getTimerCount()).toBe(before);
  });
});
