/**
 * GetCandles end to end over gRPC: simulator (Upbit), the real daemon process and the gateway.
 * Each test checks a promise of the issue against the simulator's own candles and traffic.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Candle, GapReason, Priority, Source, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient } from "../../src/shared/grpc/client.js";
import { bucketStart, DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { type Timeframe as Tf, timeframeToProto, TIMEFRAMES } from "../../src/shared/timeframe.js";
import type { SimCandle } from "../../src/upbit-sim/exchange-model.js";
import { fixedDecimalText } from "../../src/shared/decimal-text.js";
import { AMOUNT_FRACTION_DIGITS } from "../../src/upbit-sim/upbit-json.js";
import { readAll } from "../support/candles.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

/** 200 one-minute buckets: the gateway's window grid. */
const CELL_MS = 200 * MINUTE_MS;
const LIMIT = 10;

function simCandles(stack: Stack, market: string, tf: Tf, to: number, count: number): SimCandle[] {
  return stack.sim.exchange.candles(market, tf, to, count).reverse();
}

function values(candles: readonly Candle[]): number[][] {
  return candles.map((c) => [Number(c.timeMs), c.open, c.high, c.low, c.close, c.volume, c.quoteVolume]);
}

/** The simulator's candles as its REST API spells them (8 decimals, like Upbit). */
function simValues(candles: readonly SimCandle[]): number[][] {
  const spelled = (n: number) => Number(fixedDecimalText(n, AMOUNT_FRACTION_DIGITS));
  return candles.map((c) => [c.timeMs, ...[c.open, c.high, c.low, c.close, c.volume, c.quoteVolume].map(spelled)]);
}

async function candleRequests(stack: Stack): Promise<number> {
  return (await stack.traffic()).candles!.requests;
}

async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  return p.then(
    () => ({ code: status.OK, details: "" }),
    (e: unknown) => e as { code: number; details: string },
  );
}

describe("GetCandles against the simulator", () => {
  let stack: Stack;
  let quiet: string;
  beforeAll(async () => {
    stack = await startStack({ rateLimit: LIMIT });
    quiet = [...stack.sim.exchange.markets].filter((m) => m.quote === "KRW").sort((a, b) => a.tradesPerMinute - b.tradesPerMinute)[0]!.code;
    // Loads the market list once, so later requests count only candle calls.
    await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.DAY, count: 1 });
  });
  afterAll(async () => {
    // The whole suite stayed inside Upbit's limits.
    for (const [group, g] of Object.entries(await stack.traffic())) {
      expect(g.rejected_429, group).toBe(0);
      expect(g.max_per_second, group).toBeLessThanOrEqual(LIMIT);
    }
    await stack.stop();
  });

  it("serves 1,000 1-minute candles equal to the simulator's, then the same again with zero upstream calls", async () => {
    const end = bucketStart("1m", Date.now()) - 3 * DAY_MS;
    const req = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 1000, endMs: BigInt(end) };
    const first = await stack.client.getCandles(req);
    expect(values(first.candles)).toEqual(simValues(simCandles(stack, "KRW-BTC", "1m", end, 1000)));
    expect(first.meta?.source).toBe(Source.MIXED);
    expect(first.meta?.upstreamCalls).toBeGreaterThanOrEqual(5);
    expect(first.meta?.complete).toBe(true);

    const before = await candleRequests(stack);
    const again = await stack.client.getCandles(req);
    expect(values(again.candles)).toEqual(values(first.candles));
    expect(again.meta).toMatchObject({ source: Source.STORE, upstreamCalls: 0, splits: 0, complete: true, priority: Priority.NORMAL });
    expect(await candleRequests(stack)).toBe(before);
  });

  it("fetches only the missing windows of a range half in the store", async () => {
    const end = Math.floor((Date.now() - 5 * DAY_MS) / CELL_MS) * CELL_MS;
    const first = await stack.client.getCandles({ market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 2 * CELL_MS), endMs: BigInt(end) });
    expect(first.meta?.upstreamCalls).toBe(2);
    const before = await candleRequests(stack);
    const wider = await stack.client.getCandles({ market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 4 * CELL_MS), endMs: BigInt(end) });
    expect(wider.meta).toMatchObject({ source: Source.MIXED, upstreamCalls: 2, splits: 2, complete: true });
    expect(await candleRequests(stack)).toBe(before + 2);
    expect(values(wider.candles)).toEqual(simValues(simCandles(stack, "KRW-ETH", "1m", end, 800).filter((c) => c.timeMs >= end - 4 * CELL_MS)));
  });

  it("pages back on an illiquid market until count candles are found", async () => {
    const end = bucketStart("1m", Date.now()) - DAY_MS;
    const res = await stack.client.getCandles({ market: quiet, timeframe: Timeframe.MINUTE_1, count: 300, endMs: BigInt(end) });
    const sim = simCandles(stack, quiet, "1m", end, 300);
    expect(sim).toHaveLength(300);
    expect(values(res.candles)).toEqual(simValues(sim));
    // Far fewer candles than buckets: the market trades rarely.
    expect(end - Number(res.candles[0]!.timeMs)).toBeGreaterThan(600 * MINUTE_MS);
  });

  it("stops at the market's beginning: a shorter, complete answer", async () => {
    const market = [...stack.sim.exchange.markets].sort((a, b) => b.listedAtMs - a.listedAtMs)[0]!;
    const end = bucketStart("1d", Date.now());
    const res = await stack.client.getCandles({ market: market.code, timeframe: Timeframe.DAY, count: 5000, endMs: BigInt(end) });
    const sim = simCandles(stack, market.code, "1d", end, 5000);
    expect(res.candles.length).toBe(sim.length);
    expect(res.candles.length).toBeLessThan(5000);
    expect(res.meta?.complete).toBe(true);
  });

  it.each(TIMEFRAMES.map((tf) => [tf]))("serves %s candles equal to the simulator's", async (tf) => {
    // An explicit end: "now" would move on between the answer and the comparison (a 1s bucket closes every second).
    const end = bucketStart(tf, Date.now());
    const res = await stack.client.getCandles({ market: "KRW-XRP", timeframe: timeframeToProto(tf), count: 30, endMs: BigInt(end) });
    expect(values(res.candles)).toEqual(simValues(simCandles(stack, "KRW-XRP", tf, end, 30)));
    expect(res.candles.every((c) => c.closed && !c.synthetic)).toBe(true);
  });

  it("adds the forming bucket flagged not closed, and never stores it as covered", async () => {
    const res = await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_60, count: 3, includeForming: true });
    const forming = bucketStart("60m", Date.now());
    expect(res.candles).toHaveLength(3);
    expect(res.candles.map((c) => c.closed)).toEqual([true, true, false]);
    expect(Number(res.candles[2]!.timeMs)).toBe(forming);
    expect(res.meta?.gaps.map((g) => g.reason)).toEqual([GapReason.FORMING]);
    const store = createGrpcClient(StorageService, stack.daemon.address);
    try {
      const missing = await store.getMissing({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_60, startMs: BigInt(forming - 3_600_000), endMs: BigInt(forming + 3_600_000) });
      expect(missing.missing.map((i) => Number(i.startMs))).toEqual([forming]);
      const rows = await readAll(store, { market: "KRW-BTC", timeframe: Timeframe.MINUTE_60, startMs: BigInt(forming), endMs: BigInt(forming + 3_600_000) });
      expect(rows.rows).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("fills empty buckets with flat synthetic candles at the previous close", async () => {
    const end = bucketStart("1m", Date.now()) - 2 * DAY_MS;
    const start = end - 300 * MINUTE_MS;
    const res = await stack.client.getCandles({ market: quiet, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), fillGaps: true });
    const real = res.candles.filter((c) => !c.synthetic);
    expect(values(real)).toEqual(simValues(simCandles(stack, quiet, "1m", end, 300).filter((c) => c.timeMs >= start)));
    const times = res.candles.map((c) => Number(c.timeMs));
    // Every bucket after the first known close is there, once, ascending.
    expect(new Set(times).size).toBe(times.length);
    expect(times.at(-1)).toBe(end - MINUTE_MS);
    for (let i = 1; i < res.candles.length; i++) {
      const c = res.candles[i]!;
      expect(Number(c.timeMs) - Number(res.candles[i - 1]!.timeMs)).toBe(MINUTE_MS);
      if (c.synthetic) expect(c).toMatchObject({ open: res.candles[i - 1]!.close, high: res.candles[i - 1]!.close, low: res.candles[i - 1]!.close, close: res.candles[i - 1]!.close, volume: 0, quoteVolume: 0 });
    }
    expect(res.candles.filter((c) => c.synthetic).length).toBeGreaterThan(100);
  });

  it("50 concurrent overlapping requests fetch each distinct window once and store no duplicate", async () => {
    const end = Math.floor((Date.now() - 8 * DAY_MS) / CELL_MS) * CELL_MS;
    const before = await candleRequests(stack);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stack.client.getCandles({ market: "KRW-SOL", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - ((i % 5) + 1) * CELL_MS + (i % 7) * MINUTE_MS), endMs: BigInt(end - (i % 3) * MINUTE_MS) }),
      ),
    );
    // The union is [end - 5 cells, end): five distinct windows.
    expect((await candleRequests(stack)) - before).toBeLessThanOrEqual(5);
    const sim = simCandles(stack, "KRW-SOL", "1m", end, 1000).filter((c) => c.timeMs >= end - 5 * CELL_MS);
    for (const r of results) {
      const first = Number(r.candles[0]!.timeMs);
      const last = Number(r.candles.at(-1)!.timeMs);
      expect(values(r.candles)).toEqual(simValues(sim.filter((c) => c.timeMs >= first && c.timeMs <= last)));
    }
    const store = createGrpcClient(StorageService, stack.daemon.address);
    try {
      const { rows } = await readAll(store, { market: "KRW-SOL", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 5 * CELL_MS), endMs: BigInt(end) });
      expect(rows.map((r) => r.time)).toEqual(sim.map((c) => c.timeMs));
    } finally {
      store.close();
    }
  });

  it.each([
    ["an unset timeframe", { market: "KRW-BTC", count: 5 }, status.INVALID_ARGUMENT, /timeframe/],
    ["an unknown timeframe", { market: "KRW-BTC", timeframe: 99 as Timeframe, count: 5 }, status.INVALID_ARGUMENT, /timeframe: 99/],
    ["a lower-case market", { market: "krw-btc", timeframe: Timeframe.MINUTE_1, count: 5 }, status.INVALID_ARGUMENT, /market: "krw-btc" is not a market code/],
    ["a malformed market", { market: "KRWBTC", timeframe: Timeframe.MINUTE_1, count: 5 }, status.INVALID_ARGUMENT, /market: "KRWBTC"/],
    ["an unlisted market", { market: "KRW-NOPE", timeframe: Timeframe.MINUTE_1, count: 5 }, status.NOT_FOUND, /market: KRW-NOPE is not a market Upbit lists/],
    ["count 0 without start", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1 }, status.INVALID_ARGUMENT, /count: 0 must be at least 1/],
    ["count over the cap", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 20_001 }, status.RESOURCE_EXHAUSTED, /count 20001 exceeds the 20000-candle limit.*FetchCandleRange/],
    ["a range over the cap", { market: "KRW-BTC", timeframe: Timeframe.SECOND_1, startMs: BigInt(Date.now() - DAY_MS) }, status.RESOURCE_EXHAUSTED, /FetchCandleRange/],
    ["count and start together", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 5, startMs: BigInt(Date.now() - DAY_MS) }, status.INVALID_ARGUMENT, /count: 5 must be 0 when start_ms is set/],
    ["start >= end", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(Date.now() - DAY_MS), endMs: BigInt(Date.now() - 2 * DAY_MS) }, status.INVALID_ARGUMENT, /start_ms: .* must be before end_ms/],
    ["a start before 2017", { market: "KRW-BTC", timeframe: Timeframe.DAY, startMs: BigInt(Date.UTC(2016, 5, 1)) }, status.INVALID_ARGUMENT, /start_ms: .*2016-06-01.* is before 2017/],
    ["an end in the future", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 5, endMs: BigInt(Date.now() + DAY_MS) }, status.INVALID_ARGUMENT, /end_ms: .* is in the future/],
    ["a start in the future", { market: "KRW-BTC", timeframe: Timeframe.DAY, startMs: BigInt(Date.now() + 2 * DAY_MS), endMs: BigInt(Date.now() + 3 * DAY_MS) }, status.INVALID_ARGUMENT, /_ms: .* is in the future/],
    ["an unknown priority", { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 5, priority: 42 as Priority }, status.INVALID_ARGUMENT, /priority: 42 is not a Priority/],
  ] as const)("refuses %s with a status naming the field", async (_name, req, code, message) => {
    const before = await candleRequests(stack);
    const e = await statusOf(stack.client.getCandles(req));
    expect(e.code).toBe(code);
    expect(e.details).toMatch(message);
    expect(await candleRequests(stack)).toBe(before);
  });

  it("refuses a request larger than the configured message size", async () => {
    const e = await statusOf(stack.client.getCandles({ market: `KRW-${"A".repeat(2 * 1024 * 1024)}`, timeframe: Timeframe.MINUTE_1, count: 5 }));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.details).toMatch(/larger than max/);
  });
});
