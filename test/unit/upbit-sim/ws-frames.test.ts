import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SimOrderbookUnit } from "../../../src/upbit-sim/exchange-model.js";
import {
  aggregateUnits,
  candleRecord,
  encodeControlFrame,
  encodeDataFrames,
  LIST_FRAME_MAX_ITEMS,
  listSubscriptionsRecord,
  orderbookRecord,
  stringifyWs,
  tickerRecord,
  toSimple,
  tradeRecord,
  withStreamType,
  type WsRecord,
} from "../../../src/upbit-sim/ws-frames.js";
import {
  DEFAULT_CANDLE_KEYS,
  shapeOf,
  SIMPLE_CANDLE_KEYS,
  SIMPLE_TICKER_KEYS,
  SIMPLE_TRADE_KEYS,
  WS_LIST_SUBSCRIPTIONS_RESPONSE,
  WS_ORDERBOOK_DEFAULT,
  WS_ORDERBOOK_SIMPLE,
  WS_TICKER_DEFAULT,
  WS_TRADE_DEFAULT,
} from "./ws-fixtures.js";
import { createFakeExchange, T0 } from "./ws-test-support.js";
import { FIXTURES_DIR } from "../../support/fixtures.js";


const exchange = createFakeExchange(() => T0);
const parse = (r: WsRecord): Record<string, unknown> => JSON.parse(stringifyWs(r)) as Record<string, unknown>;

function ticker(): WsRecord {
  const market = exchange.market("KRW-BTC");
  const t = exchange.ticker("KRW-BTC", T0);
  if (!market || !t) throw new Error("fake exchange has no ticker");
  return tickerRecord(market, t, t.lastTrade.timestampMs + 5);
}

function trade(): WsRecord {
  const t = exchange.ticker("KRW-BTC", T0);
  if (!t) throw new Error("fake exchange has no ticker");
  return tradeRecord(t.lastTrade, t.prevClosingPrice, exchange.orderbook("KRW-BTC", T0, 1).units[0], T0);
}

function book(depth: number): WsRecord {
  const b = exchange.orderbook("KRW-BTC", T0, depth);
  return orderbookRecord(b, b.units, depth, 0);
}

describe("DEFAULT records have the fixtures' keys, key order and JSON types", () => {
  it("ticker", () => {
    const r = parse(withStreamType(ticker(), "REALTIME"));
    expect(Object.keys(r)).toEqual(Object.keys(WS_TICKER_DEFAULT));
    expect(shapeOf(r)).toEqual(shapeOf(WS_TICKER_DEFAULT));
  });

  it("trade", () => {
    const r = parse(withStreamType(trade(), "SNAPSHOT"));
    expect(Object.keys(r)).toEqual(Object.keys(WS_TRADE_DEFAULT));
    expect(shapeOf(r)).toEqual(shapeOf(WS_TRADE_DEFAULT));
  });

  it("orderbook, units included", () => {
    const r = parse(withStreamType(book(2), "SNAPSHOT"));
    expect(Object.keys(r)).toEqual(Object.keys(WS_ORDERBOOK_DEFAULT));
    expect(shapeOf(r)).toEqual(shapeOf(WS_ORDERBOOK_DEFAULT));
    const units = r.orderbook_units as Record<string, unknown>[];
    const fixtureUnits = WS_ORDERBOOK_DEFAULT.orderbook_units as Record<string, unknown>[];
    expect(units.map(shapeOf)).toEqual(fixtureUnits.map(shapeOf));
    expect(units.map((u) => Object.keys(u))).toEqual(fixtureUnits.map((u) => Object.keys(u)));
  });

  it("candle (no fixture exists: keys per API.md §4.7)", () => {
    const [c] = exchange.candles("KRW-BTC", "1m", T0 + 1, 1);
    if (!c) throw new Error("no candle");
    const r = parse(candleRecord("candle.1m", "KRW-BTC", c, c.lastTradeMs + 3));
    expect(Object.keys(r)).toEqual(DEFAULT_CANDLE_KEYS);
    // T0 is 00:02:00.000 and the first trade of that minute comes 7 ms later: the latest
    // existing candle is the previous minute's.
    expect(r.candle_date_time_utc).toBe("2026-03-11T00:01:00");
    expect(r.candle_date_time_kst).toBe("2026-03-11T09:01:00");
    expect(r.type).toBe("candle.1m");
  });

  it("LIST_SUBSCRIPTIONS reply", () => {
    const r = parse(
      listSubscriptionsRecord("unique uuid", [
        { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] },
        { type: "orderbook", codes: ["KRW-BTC", "KRW-ETH"], level: 0 },
      ]),
    );
    expect(r).toEqual(WS_LIST_SUBSCRIPTIONS_RESPONSE);
  });
});

describe("SIMPLE keys", () => {
  it("ticker and trade map every key per API.md §4.4/4.5", () => {
    expect(Object.keys(toSimple(ticker())).sort()).toEqual([...SIMPLE_TICKER_KEYS].sort());
    expect(Object.keys(toSimple(trade())).sort()).toEqual([...SIMPLE_TRADE_KEYS].sort());
  });

  it("trade_date is td on trades but tdt on tickers", () => {
    expect(toSimple(trade()).td).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(toSimple(ticker()).tdt).toMatch(/^\d{8}$/);
  });

  it("orderbook matches the recorded SIMPLE frame's keys and types, units included", () => {
    const r = parse(toSimple(withStreamType(book(2), "SNAPSHOT")));
    expect(Object.keys(r)).toEqual(Object.keys(WS_ORDERBOOK_SIMPLE));
    expect(shapeOf(r)).toEqual(shapeOf(WS_ORDERBOOK_SIMPLE));
    const fixtureUnits = WS_ORDERBOOK_SIMPLE.obu as Record<string, unknown>[];
    expect((r.obu as Record<string, unknown>[]).map(shapeOf)).toEqual(fixtureUnits.map(shapeOf));
  });

  it("candle and LIST_SUBSCRIPTIONS", () => {
    const [c] = exchange.candles("KRW-BTC", "1s", T0 + 1, 1);
    if (!c) throw new Error("no candle");
    expect(Object.keys(toSimple(candleRecord("candle.1s", "KRW-BTC", c, c.lastTradeMs)))).toEqual(SIMPLE_CANDLE_KEYS);
    const list = parse(toSimple(listSubscriptionsRecord("x", [{ type: "orderbook", codes: ["KRW-BTC"], level: 0 }])));
    expect(list).toEqual({ mthd: "LIST_SUBSCRIPTIONS", rslt: [{ ty: "orderbook", cds: ["KRW-BTC"], lv: 0 }], tckt: "x" });
  });
});

describe("values", () => {
  it("writes sequential ids above 2^53 exactly", () => {
    const r = tradeRecord(
      { market: "KRW-ETH", timestampMs: 1730336862080, price: 3700000, volume: 0.02207517, askBid: "BID", sequentialId: 17303368620800006n },
      3695000,
      undefined,
      1730336862120,
    );
    const text = stringifyWs(r);
    expect(text).toContain('"sequential_id":17303368620800006,');
    expect(stringifyWs(toSimple(r))).toContain('"sid":17303368620800006,');
  });

  it("derives change fields like the docs example (FALL, absolute change price)", () => {
    const r = tradeRecord(
      { market: "KRW-BTC", timestampMs: 1730336862047, price: 100473000, volume: 0.00014208, askBid: "BID", sequentialId: 17303368620470000n },
      100571000,
      { askPrice: 100473000, askSize: 0.43139478, bidPrice: 100465000, bidSize: 0.01990656 },
      1730336862082,
    );
    expect(r).toMatchObject({
      timestamp: 1730336862082,
      trade_timestamp: 1730336862047,
      trade_date: "2024-10-31",
      trade_time: "01:07:42",
      change: "FALL",
      change_price: 98000,
      best_ask_price: 100473000,
      best_bid_size: 0.01990656,
    });
  });

  it("ticker change rate and dates follow the exchange's values", () => {
    const t = exchange.ticker("KRW-BTC", T0);
    const r = ticker();
    if (!t) throw new Error("no ticker");
    const diff = t.lastTrade.price - t.prevClosingPrice;
    expect(r.signed_change_price).toBeCloseTo(diff, 6);
    expect(r.change_price).toBe(Math.abs(r.signed_change_price as number));
    expect(r.signed_change_rate).toBeCloseTo(diff / t.prevClosingPrice, 9);
    expect(r.change).toBe(diff > 0 ? "RISE" : diff < 0 ? "FALL" : "EVEN");
    expect(r.trade_date).toBe("20260311");
    expect(r.acc_trade_price).toBe(t.today.quoteVolume);
    expect(r.market_warning).toBe("NONE");
  });

  it("pads an orderbook with zero slots to the depth and totals only the shown levels", () => {
    const b = { market: "KRW-BTC", timestampMs: 5, units: [{ askPrice: 2, askSize: 0.1, bidPrice: 1, bidSize: 0.2 }] };
    const r = orderbookRecord(b, b.units, 3, 0);
    expect(r.orderbook_units).toEqual([
      { ask_price: 2, bid_price: 1, ask_size: 0.1, bid_size: 0.2 },
      { ask_price: 0, bid_price: 0, ask_size: 0, bid_size: 0 },
      { ask_price: 0, bid_price: 0, ask_size: 0, bid_size: 0 },
    ]);
    const full = book(30);
    const shown = book(5);
    expect((shown.orderbook_units as unknown[]).length).toBe(5);
    expect(shown.total_ask_size).toBeLessThan(full.total_ask_size as number);
  });

  it("aggregates levels: asks round up, bids down, sizes summed", () => {
    const units: SimOrderbookUnit[] = [
      { askPrice: 100_001_000, askSize: 1, bidPrice: 100_000_000, bidSize: 2 },
      { askPrice: 100_005_000, askSize: 3, bidPrice: 99_999_000, bidSize: 4 },
      { askPrice: 100_012_000, askSize: 5, bidPrice: 99_990_000, bidSize: 6 },
    ];
    expect(aggregateUnits(units, 10_000)).toEqual([
      { askPrice: 100_010_000, askSize: 4, bidPrice: 100_000_000, bidSize: 2 },
      { askPrice: 100_020_000, askSize: 5, bidPrice: 99_990_000, bidSize: 10 },
    ]);
  });
});

describe("frames", () => {
  it("LIST formats wrap records in arrays of bounded size, others send one object per frame", () => {
    const records = Array.from({ length: LIST_FRAME_MAX_ITEMS + 1 }, () => withStreamType(ticker(), "REALTIME"));
    expect(encodeDataFrames(records, "DEFAULT")).toHaveLength(records.length);
    const list = encodeDataFrames(records, "SIMPLE_LIST");
    expect(list).toHaveLength(2);
    const first = JSON.parse(list[0]?.toString("utf8") ?? "") as Record<string, unknown>[];
    expect(first).toHaveLength(LIST_FRAME_MAX_ITEMS);
    expect(first[0]?.ty).toBe("ticker");
  });

  it("control frames (errors, status) look the same in every format", () => {
    const err = { error: { name: "NO_TICKET", message: "m" } };
    expect(encodeControlFrame(err, "SIMPLE").toString()).toBe(JSON.stringify(err));
    expect(encodeControlFrame({ status: "UP" }, "SIMPLE_LIST").toString()).toBe('{"status":"UP"}');
  });
});

describe("embedded fixture copies", () => {
  it("match upbit/fixtures", () => {
    const read = (f: string): Record<string, unknown> =>
      JSON.parse(readFileSync(`${FIXTURES_DIR}/${f}`, "utf8")) as Record<string, unknown>;
    const ob = read("ws-orderbook.json").recorded_2026_09_23 as Record<string, unknown>;
    expect(read("ws-ticker.json").docs_example_default_2023).toEqual(WS_TICKER_DEFAULT);
    expect((read("ws-trade.json").docs_example_default as unknown[])[0]).toEqual(WS_TRADE_DEFAULT);
    expect(ob.default_snapshot_trimmed_to_2_units).toEqual(WS_ORDERBOOK_DEFAULT);
    expect(ob.simple_snapshot_trimmed_to_2_units).toEqual(WS_ORDERBOOK_SIMPLE);
    expect(read("ws-control.json").docs_list_subscriptions_response).toEqual(WS_LIST_SUBSCRIPTIONS_RESPONSE);
  });
});
