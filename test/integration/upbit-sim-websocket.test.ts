/**
 * The simulator's WebSocket over the real synthetic exchange: every value a client receives
 * agrees with the exchange and with what the simulator's REST side serves for the same moment,
 * and every frame parses with the gateway's own Upbit WebSocket parser.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  parseJsonPreservingLargeIntegers,
  parseUpbitWebSocketFrame,
} from "../../src/gateway/upstream/upbit-websocket-parsers.js";
import type { SimMarket, SyntheticExchange } from "../../src/upbit-sim/exchange-model.js";
import { buildMarketUniverse } from "../../src/upbit-sim/market-universe.js";
import { createQuotationEndpoints } from "../../src/upbit-sim/rest-endpoints.js";
import { createSyntheticExchange } from "../../src/upbit-sim/synthetic-exchange.js";
import {
  manualClock,
  obj,
  rawSequentialId,
  startHarness,
  type ReceivedMessage,
  type WsHarness,
  type WsTestClient,
} from "../unit/upbit-sim/ws-test-support.js";

const SEED = 7;
/** 2026-03-11 05:00:00 UTC, a busy hour of an ordinary day. */
const START_MS = Date.UTC(2026, 2, 11, 5, 0, 0);

let clock: ReturnType<typeof manualClock>;
let exchange: SyntheticExchange;
let rest: ReturnType<typeof createQuotationEndpoints>;
let harness: WsHarness;
let busiest: SimMarket[];

beforeEach(async () => {
  clock = manualClock(START_MS);
  const markets = buildMarketUniverse({ seed: SEED, nowMs: START_MS, krwMarkets: 20, btcMarkets: 5, usdtMarkets: 5 });
  exchange = createSyntheticExchange({ seed: SEED, markets, now: clock.now });
  rest = createQuotationEndpoints(exchange);
  harness = await startHarness({ exchange, now: clock.now, tickMs: 10 });
  busiest = [...exchange.markets]
    .filter((m) => m.quote === "KRW" && m.listedAtMs < START_MS - 86_400_000)
    .sort((a, b) => b.tradesPerMinute - a.tradesPerMinute)
    .slice(0, 5);
});

afterEach(async () => {
  await harness.close();
});

/** The REST reply for `path?query` right now, parsed (integers beyond 2^53 as bigint). */
function restGet(path: string, query: Record<string, string>): Record<string, unknown>[] {
  const route = rest.route(path);
  if (!route) throw new Error(`no REST route ${path}`);
  return parseJsonPreservingLargeIntegers(route.answer(new URLSearchParams(query), clock.now())) as Record<string, unknown>[];
}

/** Every frame must be something the gateway's parser accepts as data. */
function expectGatewayParses(messages: readonly ReceivedMessage[]): void {
  for (const m of messages) {
    for (const parsed of parseUpbitWebSocketFrame(Buffer.from(m.text))) {
      expect(parsed.kind, m.text).not.toBe("invalid");
      expect(parsed.kind).not.toBe("error");
    }
  }
}

/** Amounts are spelled with 8 decimals by REST; compare them as numbers at that precision. */
function expectSameAmount(actual: unknown, expected: unknown): void {
  expect(typeof actual).toBe("number");
  expect(Math.abs((actual as number) - (expected as number))).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(expected as number)));
}

/**
 * A WebSocket ticker against the REST ticker of the same moment. `rolling24h: false` skips the
 * 24 h sums, for a ticker pushed at its trade's time and compared with REST at a later time.
 */
function expectTickerAgreesWithRest(ws: Record<string, unknown>, r: Record<string, unknown>, rolling24h = true): void {
  expect(ws.code).toBe(r.market);
  for (const k of ["trade_date", "trade_time", "trade_timestamp", "timestamp", "change", "highest_52_week_date", "lowest_52_week_date"]) {
    expect(ws[k], k).toBe(r[k]);
  }
  for (const k of [
    "opening_price", "high_price", "low_price", "trade_price", "prev_closing_price", "change_price",
    "signed_change_price", "change_rate", "signed_change_rate", "trade_volume", "acc_trade_price",
    "acc_trade_volume", "highest_52_week_price", "lowest_52_week_price",
    ...(rolling24h ? ["acc_trade_price_24h", "acc_trade_volume_24h"] : []),
  ]) {
    expectSameAmount(ws[k], r[k]);
  }
}

async function subscribe(client: WsTestClient, request: unknown[], snapshots: number): Promise<ReceivedMessage[]> {
  client.send(request);
  return client.take(snapshots);
}

describe("simulated Upbit WebSocket over the synthetic exchange", () => {
  it("tickers: snapshot and realtime agree with the exchange and with REST /v1/ticker", async () => {
    const client = await harness.connect();
    const codes = busiest.map((m) => m.code);
    const snaps = await subscribe(client, [{ ticket: "t" }, { type: "ticker", codes }], codes.length);
    expectGatewayParses(snaps);
    const restNow = restGet("/v1/ticker", { markets: codes.join(",") });
    for (const m of snaps) {
      const o = obj(m);
      expect(o.stream_type).toBe("SNAPSHOT");
      expectTickerAgreesWithRest(o, restNow.find((r) => r.market === o.code) ?? {});
    }

    const from = clock.now();
    const to = clock.advance(20_000);
    const times = codes.map((c) => [...new Set(exchange.trades(c, from + 1, to + 1).map((t) => t.timestampMs))]);
    const live = await client.takeData(times.reduce((n, t) => n + t.length, 0));
    expectGatewayParses(live);
    const restLater = restGet("/v1/ticker", { markets: codes.join(",") });
    for (const [i, code] of codes.entries()) {
      const mine = live.map(obj).filter((o) => o.code === code);
      expect(mine.map((o) => o.trade_timestamp)).toEqual(times[i]);
      expect(mine.every((o) => o.stream_type === "REALTIME")).toBe(true);
      for (const o of mine) {
        // Each push is the ticker as of its trade: the rolling 24 h window ends there.
        const t = exchange.ticker(code, o.trade_timestamp as number);
        expect([o.trade_price, o.acc_trade_price_24h, o.acc_trade_volume_24h]).toEqual([
          t?.lastTrade.price,
          t?.accTradePrice24h,
          t?.accTradeVolume24h,
        ]);
      }
      const last = mine.at(-1);
      if (last) expectTickerAgreesWithRest(last, restLater.find((r) => r.market === code) ?? {}, false);
    }
    expect(await client.drain()).toEqual([]);
  });

  it("trades: every trade once, in order, exact sequential ids, as exchange.trades() and REST /v1/trades/ticks", async () => {
    const client = await harness.connect();
    const codes = busiest.slice(0, 3).map((m) => m.code);
    await subscribe(client, [{ ticket: "t" }, { type: "trade", codes, is_only_realtime: true }, { format: "SIMPLE" }], 0);
    await client.drain();
    const from = clock.now();
    const to = clock.advance(60_000);
    const expected = codes.flatMap((c) => exchange.trades(c, from + 1, to + 1));
    expect(expected.length).toBeGreaterThan(20);
    const got = await client.takeData(expected.length); // the 10 s UP heartbeats are not data
    expectGatewayParses(got);
    for (const code of codes) {
      const mine = got.filter((m) => obj(m).cd === code);
      const theirs = expected.filter((t) => t.market === code);
      expect(mine.map((m) => rawSequentialId(m.text))).toEqual(theirs.map((t) => t.sequentialId));
      expect(mine.map((m) => [obj(m).tp, obj(m).tv, obj(m).ab, obj(m).ttms])).toEqual(
        theirs.map((t) => [t.price, t.volume, t.askBid, t.timestampMs]),
      );
      const restTrades = restGet("/v1/trades/ticks", { market: code, count: "500" });
      const restById = new Map(restTrades.map((r) => [r.sequential_id, r]));
      let matched = 0;
      for (const m of mine) {
        const r = restById.get(rawSequentialId(m.text));
        if (r === undefined) continue;
        matched++;
        expectSameAmount(obj(m).tp, r.trade_price);
        expectSameAmount(obj(m).tv, r.trade_volume);
        expectSameAmount(obj(m).pcp, r.prev_closing_price);
        expect(obj(m).ttms).toBe(r.timestamp);
      }
      expect(matched).toBe(Math.min(mine.length, 500));
    }
    const times = got.map((m) => obj(m).ttms as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("orderbook: snapshot agrees with REST /v1/orderbook, native and aggregated", async () => {
    const client = await harness.connect();
    const btc = exchange.market("KRW-BTC");
    expect(btc).toBeDefined();
    const level = Number(btc?.supportedLevels[1] ?? "0");
    const [native, aggregated] = await subscribe(
      client,
      [
        { ticket: "t" },
        { type: "orderbook", codes: ["KRW-BTC.15"] },
        { type: "orderbook", codes: ["KRW-BTC.5"], level },
      ],
      2,
    );
    expectGatewayParses([native!, aggregated!]);
    for (const [m, query] of [
      [native!, { markets: "KRW-BTC", count: "15" }],
      [aggregated!, { markets: "KRW-BTC", count: "5", level: String(level) }],
    ] as const) {
      const o = obj(m);
      const [r] = restGet("/v1/orderbook", query);
      expect(r).toBeDefined();
      expect(o.timestamp).toBe(r?.timestamp);
      expect(o.level).toBe(r?.level);
      expectSameAmount(o.total_ask_size, r?.total_ask_size);
      expectSameAmount(o.total_bid_size, r?.total_bid_size);
      const units = o.orderbook_units as Record<string, number>[];
      const restUnits = r?.orderbook_units as Record<string, number>[];
      expect(units.map((u) => [u.ask_price, u.bid_price])).toEqual(restUnits.map((u) => [u.ask_price, u.bid_price]));
      units.forEach((u, i) => {
        expectSameAmount(u.ask_size, restUnits[i]?.ask_size);
        expectSameAmount(u.bid_size, restUnits[i]?.bid_size);
      });
    }
    // The busiest book changes on a 100 ms grid: a realtime book follows a clock step.
    clock.advance(1_000);
    const next = await client.until((m) => obj(m).stream_type === "REALTIME");
    expect(obj(next.at(-1)!).timestamp as number).toBeGreaterThan(obj(native!).timestamp as number);
  });

  it("candles: the live 1m and 1s candles are what the pushed trades build, and what REST serves", async () => {
    const client = await harness.connect();
    const code = busiest[0]!.code;
    await subscribe(
      client,
      [
        { ticket: "t" },
        { type: "candle.1m", codes: [code], is_only_realtime: true },
        { type: "candle.1s", codes: [code], is_only_realtime: true },
        { type: "trade", codes: [code], is_only_realtime: true },
      ],
      0,
    );
    await client.drain();
    const minuteStart = clock.now(); // START_MS is on a minute boundary
    const received: Record<string, unknown>[] = [];
    let lastMinuteCandle: Record<string, unknown> | undefined;
    // Step the clock through 40 s; after each step wait for the 1m candle that reflects it.
    for (let step = 0; step < 8; step++) {
      const to = clock.advance(5_000);
      const pushed = exchange.trades(code, to - 4_999, to + 1);
      if (pushed.length === 0) continue;
      const burst = await client.until((m) => obj(m).type === "candle.1m");
      received.push(...burst.map(obj));
      lastMinuteCandle = obj(burst.at(-1)!);
    }
    expect(lastMinuteCandle).toBeDefined();
    const trades = received.filter((o) => o.type === "trade" && (o.trade_timestamp as number) >= minuteStart);
    const volume = trades.reduce((s, o) => s + (o.trade_volume as number), 0);
    expect(lastMinuteCandle).toMatchObject({
      candle_date_time_utc: new Date(minuteStart).toISOString().slice(0, 19),
      opening_price: trades[0]?.trade_price,
      trade_price: trades.at(-1)?.trade_price,
      high_price: Math.max(...trades.map((o) => o.trade_price as number)),
      low_price: Math.min(...trades.map((o) => o.trade_price as number)),
    });
    expectSameAmount(lastMinuteCandle?.candle_acc_trade_volume, volume);

    const [r] = restGet("/v1/candles/minutes/1", { market: code, count: "1" });
    expect(lastMinuteCandle?.candle_date_time_utc).toBe(r?.candle_date_time_utc);
    expect(lastMinuteCandle?.timestamp).toBe(r?.timestamp);
    for (const k of ["opening_price", "high_price", "low_price", "trade_price", "candle_acc_trade_volume", "candle_acc_trade_price"]) {
      expectSameAmount(lastMinuteCandle?.[k], r?.[k]);
    }
    const seconds = received.filter((o) => o.type === "candle.1s");
    expect(seconds.length).toBeGreaterThan(0);
    for (const s of seconds) expect(s.candle_date_time_utc as string >= new Date(minuteStart).toISOString().slice(0, 19)).toBe(true);
  });
});
