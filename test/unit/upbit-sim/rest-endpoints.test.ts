import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createQuotationEndpoints, secondsHistoryStartMs } from "../../../src/upbit-sim/rest-endpoints.js";
import {
  CODE_NOT_FOUND_MESSAGE,
  INVALID_PARAMETER_MESSAGE,
  MISSING_PARAMETER_MESSAGE,
  TYPE_MISMATCH_MESSAGE,
  UpbitRequestError,
} from "../../../src/upbit-sim/rest-params.js";
import { FAKE_NOW, createRestFakeExchange } from "./rest-fake-exchange.js";

type Row = Record<string, unknown>;

const exchange = createRestFakeExchange(() => FAKE_NOW);
const endpoints = createQuotationEndpoints(exchange);

function text(path: string, query = "", nowMs = FAKE_NOW): string {
  const route = endpoints.route(path);
  if (!route) throw new Error(`no route ${path}`);
  return route.answer(new URLSearchParams(query), nowMs);
}

function rows(path: string, query = "", nowMs = FAKE_NOW): Row[] {
  return JSON.parse(text(path, query, nowMs)) as Row[];
}

function refusal(path: string, query: string): { status: number; message: string } {
  try {
    text(path, query);
  } catch (e) {
    if (e instanceof UpbitRequestError) return { status: e.status, message: e.message };
    throw e;
  }
  throw new Error(`${path}?${query} was answered`);
}

const timeOf = (r: Row): number => Date.parse(`${String(r.candle_date_time_utc)}Z`);

describe("routing", () => {
  it("knows every quotation path and its rate-limit group", () => {
    const groups = Object.fromEntries(
      [
        "/v1/market/all", "/v1/candles/seconds", "/v1/candles/minutes/1", "/v1/candles/minutes/240", "/v1/candles/days",
        "/v1/candles/weeks", "/v1/candles/months", "/v1/candles/years", "/v1/ticker", "/v1/ticker/all", "/v1/orderbook",
        "/v1/orderbook/instruments", "/v1/trades/ticks",
      ].map((p) => [p, endpoints.route(p)?.group]),
    );
    expect(groups).toEqual({
      "/v1/market/all": "market",
      "/v1/candles/seconds": "candles",
      "/v1/candles/minutes/1": "candles",
      "/v1/candles/minutes/240": "candles",
      "/v1/candles/days": "candles",
      "/v1/candles/weeks": "candles",
      "/v1/candles/months": "candles",
      "/v1/candles/years": "candles",
      "/v1/ticker": "ticker",
      "/v1/ticker/all": "ticker",
      "/v1/orderbook": "orderbook",
      "/v1/orderbook/instruments": "orderbook",
      "/v1/trades/ticks": "crix-trades",
    });
    for (const p of ["/v1/nope", "/v1/candles/minutes", "/v1/candles/minutes/1/x", "/v1/ticker/", "/v1/candles"]) {
      expect(endpoints.route(p)).toBeUndefined();
    }
  });

  it("refuses minute units Upbit does not serve", () => {
    expect(refusal("/v1/candles/minutes/7", "market=KRW-BTC")).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
    expect(refusal("/v1/candles/minutes/abc", "market=KRW-BTC")).toEqual({ status: 400, message: TYPE_MISMATCH_MESSAGE });
  });
});

describe("candles", () => {
  it("have the common fields plus each endpoint's extra ones", () => {
    const common = [
      "market", "candle_date_time_utc", "candle_date_time_kst", "opening_price", "high_price", "low_price", "trade_price",
      "timestamp", "candle_acc_trade_price", "candle_acc_trade_volume",
    ];
    expect(Object.keys(rows("/v1/candles/seconds", "market=KRW-BTC")[0]!)).toEqual(common);
    expect(Object.keys(rows("/v1/candles/minutes/15", "market=KRW-BTC")[0]!)).toEqual([...common, "unit"]);
    expect(rows("/v1/candles/minutes/15", "market=KRW-BTC")[0]!.unit).toBe(15);
    expect(Object.keys(rows("/v1/candles/days", "market=KRW-BTC")[0]!)).toEqual([...common, "prev_closing_price", "change_price", "change_rate"]);
    for (const p of ["weeks", "months", "years"]) {
      const [row] = rows(`/v1/candles/${p}`, "market=KRW-BTC");
      expect(Object.keys(row!)).toEqual([...common, "first_day_of_period"]);
      expect(row!.first_day_of_period).toBe(String(row!.candle_date_time_utc).slice(0, 10));
    }
  });

  it("spell prices with 8 fractional digits and give KST as UTC + 9 h", () => {
    const body = text("/v1/candles/minutes/1", "market=KRW-BTC");
    expect(body).toMatch(/"opening_price":\d+\.\d{8},/);
    expect(body).toMatch(/"candle_acc_trade_volume":\d+\.\d{8},/);
    const [row] = rows("/v1/candles/minutes/1", "market=KRW-BTC");
    expect(Date.parse(`${String(row!.candle_date_time_kst)}Z`) - timeOf(row!)).toBe(9 * 3_600_000);
  });

  it("default to 1 (the forming bucket), allow 200, refuse 0 and 201", () => {
    const [latest, ...rest] = rows("/v1/candles/minutes/1", "market=KRW-BTC");
    expect(rest).toHaveLength(0);
    expect(timeOf(latest!)).toBe(Math.floor(FAKE_NOW / 60_000) * 60_000);
    expect(rows("/v1/candles/minutes/1", "market=KRW-BTC&count=200")).toHaveLength(200);
    for (const count of ["0", "201", "-1"]) {
      expect(refusal("/v1/candles/minutes/1", `market=KRW-BTC&count=${count}`)).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
    }
    expect(refusal("/v1/candles/minutes/1", "market=KRW-BTC&count=abc").message).toBe(TYPE_MISMATCH_MESSAGE);
  });

  it("page backwards newest first, contiguous and without overlap, skipping empty buckets", () => {
    const whole = rows("/v1/candles/minutes/1", "market=KRW-QUIET&count=120").map(timeOf);
    const paged: number[] = [];
    let to = "";
    for (let page = 0; page < 4; page++) {
      const got = rows("/v1/candles/minutes/1", `market=KRW-QUIET&count=30${to}`).map(timeOf);
      paged.push(...got);
      to = `&to=${new Date(got[got.length - 1]!).toISOString().slice(0, 19)}Z`;
    }
    expect(paged).toEqual(whole);
    for (let i = 1; i < whole.length; i++) expect(whole[i]!).toBeLessThan(whole[i - 1]!);
    // The quiet market trades every 9 minutes: gaps, never filler candles.
    expect(whole[0]! - whole[whole.length - 1]!).toBeGreaterThan(119 * 60_000 * 5);
  });

  it("treat `to` as exclusive and read every documented spelling of it", () => {
    const [newest] = rows("/v1/candles/minutes/5", "market=KRW-BTC");
    const start = new Date(timeOf(newest!));
    const utc = start.toISOString().slice(0, 19);
    const kst = new Date(start.getTime() + 9 * 3_600_000).toISOString().slice(0, 19);
    const spellings = [`${utc}Z`, utc.replace("T", " "), `${kst}+09:00`].map((t) => `to=${encodeURIComponent(t)}`);
    const answers = spellings.map((q) => text("/v1/candles/minutes/5", `market=KRW-BTC&count=3&${q}`));
    expect(new Set(answers).size).toBe(1);
    expect((JSON.parse(answers[0]!) as Row[]).every((r) => timeOf(r) < start.getTime())).toBe(true);
    expect(refusal("/v1/candles/minutes/5", "market=KRW-BTC&to=soon")).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
  });

  it("stamp a candle a few ms after its last trade, the same on every timeframe", () => {
    const minute = rows("/v1/candles/minutes/1", "market=KRW-BTC&count=50");
    const last = exchange.candles("KRW-BTC", "1m", FAKE_NOW + 1, 50);
    minute.forEach((r, i) => {
      const delay = (r.timestamp as number) - last[i]!.lastTradeMs;
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(40);
    });
    expect(rows("/v1/candles/days", "market=KRW-BTC")[0]!.timestamp).toBe(minute[0]!.timestamp);
  });

  it("give day candles the previous day's close and the signed change", () => {
    const days = rows("/v1/candles/days", "market=KRW-BTC&count=3");
    for (let i = 0; i < days.length - 1; i++) {
      expect(days[i]!.prev_closing_price).toBe(days[i + 1]!.trade_price);
      const change = (days[i]!.trade_price as number) - (days[i]!.prev_closing_price as number);
      expect(days[i]!.change_price).toBeCloseTo(change, 6);
      expect(days[i]!.change_rate).toBeCloseTo(change / (days[i]!.prev_closing_price as number), 9);
    }
    // The oldest day of a page still has its previous close (read beyond the page).
    const two = rows("/v1/candles/days", "market=KRW-BTC&count=2");
    expect(two[1]!.prev_closing_price).toBe(days[2]!.trade_price);
  });

  it("convert non-KRW day closes to KRW on request", () => {
    const [eth] = rows("/v1/candles/days", "market=BTC-ETH&converting_price_unit=KRW");
    const [btc] = rows("/v1/candles/days", "market=KRW-BTC");
    expect(eth!.converted_trade_price).toBeCloseTo((eth!.trade_price as number) * (btc!.trade_price as number), 4);
    expect(refusal("/v1/candles/days", "market=BTC-ETH&converting_price_unit=USD").status).toBe(400);
  });

  it("serve seconds only for the last three months", () => {
    const horizon = secondsHistoryStartMs(FAKE_NOW);
    expect(new Date(horizon).toISOString()).toBe("2025-12-11T14:40:59.500Z");
    const to = `to=${new Date(FAKE_NOW).toISOString().slice(0, 19)}Z`;
    expect(rows("/v1/candles/seconds", `market=KRW-BTC&${to}`)).toHaveLength(1);
    // Asked 100 days later, the same second is out of range.
    expect(rows("/v1/candles/seconds", `market=KRW-BTC&${to}`, FAKE_NOW + 100 * 86_400_000)).toEqual([]);
    // Near the edge, only the part inside the horizon is served.
    const later = new Date(FAKE_NOW - 60_000);
    later.setUTCMonth(later.getUTCMonth() + 3);
    const edge = rows("/v1/candles/seconds", `market=KRW-BTC&${to}&count=200`, later.getTime());
    expect(secondsHistoryStartMs(later.getTime())).toBe(FAKE_NOW - 60_000);
    expect(edge.length).toBeGreaterThan(0);
    expect(edge.length).toBeLessThan(200);
    expect(edge.every((r) => timeOf(r) >= FAKE_NOW - 60_000)).toBe(true);
  });

  it("accept lower-case codes and refuse unknown or missing ones as Upbit does", () => {
    expect(rows("/v1/candles/days", "market=krw-btc")[0]!.market).toBe("KRW-BTC");
    expect(refusal("/v1/candles/days", "market=KRW-NOPE")).toEqual({ status: 404, message: CODE_NOT_FOUND_MESSAGE });
    expect(refusal("/v1/candles/days", "")).toEqual({ status: 400, message: MISSING_PARAMETER_MESSAGE });
  });

  it("are empty before a market's first trade", () => {
    expect(rows("/v1/candles/minutes/1", "market=KRW-NEW")).toEqual([]);
    expect(rows("/v1/candles/days", "market=KRW-BTC&to=2020-01-01T00:00:00Z")).toEqual([]);
  });
});

describe("tickers", () => {
  const fields = [
    "market", "trade_date", "trade_time", "trade_date_kst", "trade_time_kst", "trade_timestamp", "opening_price", "high_price",
    "low_price", "trade_price", "prev_closing_price", "change", "change_price", "change_rate", "signed_change_price",
    "signed_change_rate", "trade_volume", "acc_trade_price", "acc_trade_price_24h", "acc_trade_volume", "acc_trade_volume_24h",
    "highest_52_week_price", "highest_52_week_date", "lowest_52_week_price", "lowest_52_week_date", "timestamp",
  ];

  it("answer several markets, lower case accepted, with consistent change fields", () => {
    const got = rows("/v1/ticker", "markets=krw-btc,BTC-ETH");
    expect(got.map((r) => r.market)).toEqual(["KRW-BTC", "BTC-ETH"]);
    for (const t of got) {
      expect(Object.keys(t)).toEqual(fields);
      const signed = (t.trade_price as number) - (t.prev_closing_price as number);
      expect(t.signed_change_price).toBeCloseTo(signed, 8);
      expect(t.change_price).toBeCloseTo(Math.abs(signed), 8);
      expect(t.change).toBe(signed > 0 ? "RISE" : signed < 0 ? "FALL" : "EVEN");
      expect(t.trade_date).toMatch(/^\d{8}$/);
      expect(t.trade_time).toMatch(/^\d{6}$/);
      expect(t.highest_52_week_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("fail the whole call for one unknown code", () => {
    expect(refusal("/v1/ticker", "markets=KRW-BTC,KRW-NOPE")).toEqual({ status: 404, message: CODE_NOT_FOUND_MESSAGE });
    expect(refusal("/v1/ticker", "")).toEqual({ status: 400, message: MISSING_PARAMETER_MESSAGE });
  });

  it("list a quote currency's markets busiest first, leaving out markets without trades", () => {
    const all = rows("/v1/ticker/all", "quote_currencies=KRW");
    expect(all.map((r) => r.market).sort()).toEqual(["KRW-BTC", "KRW-ETH", "KRW-QUIET"]);
    const turnover = all.map((r) => r.acc_trade_price_24h as number);
    expect([...turnover].sort((a, b) => b - a)).toEqual(turnover);
    expect(rows("/v1/ticker/all", "quote_currencies=BTC,usdt").map((r) => r.market).sort()).toEqual(["BTC-ETH", "USDT-BTC"]);
    expect(refusal("/v1/ticker/all", "quote_currencies=EUR").status).toBe(404);
  });
});

describe("orderbook", () => {
  it("answers 30 levels by default with Upbit's key order and plain numbers", () => {
    const body = text("/v1/orderbook", "markets=KRW-BTC");
    expect(body).not.toMatch(/\.\d*0[,}]/);
    const [book] = JSON.parse(body) as Row[];
    expect(Object.keys(book!)).toEqual(["market", "timestamp", "total_ask_size", "total_bid_size", "orderbook_units", "level"]);
    const units = book!.orderbook_units as Row[];
    expect(units).toHaveLength(30);
    expect(Object.keys(units[0]!)).toEqual(["bid_price", "bid_size", "ask_price", "ask_size"]);
    for (let i = 1; i < units.length; i++) {
      expect(units[i]!.ask_price as number).toBeGreaterThan(units[i - 1]!.ask_price as number);
      expect(units[i]!.bid_price as number).toBeLessThan(units[i - 1]!.bid_price as number);
    }
    expect(book!.level).toBe(0);
  });

  it("falls back to 30 for an out-of-range count and refuses a non-number", () => {
    for (const count of ["31", "50", "0", "-3"]) {
      expect((rows("/v1/orderbook", `markets=KRW-BTC&count=${count}`)[0]!.orderbook_units as Row[]).length).toBe(30);
    }
    expect(refusal("/v1/orderbook", "markets=KRW-BTC&count=abc")).toEqual({ status: 400, message: TYPE_MISMATCH_MESSAGE });
  });

  it("pads a thin book with zero slots and sums only the returned levels", () => {
    const [book] = rows("/v1/orderbook", "markets=KRW-QUIET&count=5");
    const units = book!.orderbook_units as Row[];
    expect(units).toHaveLength(5);
    expect(units.slice(3)).toEqual([
      { bid_price: 0, bid_size: 0, ask_price: 0, ask_size: 0 },
      { bid_price: 0, bid_size: 0, ask_price: 0, ask_size: 0 },
    ]);
    const [two] = rows("/v1/orderbook", "markets=KRW-BTC&count=2");
    const u = two!.orderbook_units as Row[];
    expect(two!.total_ask_size).toBeCloseTo((u[0]!.ask_size as number) + (u[1]!.ask_size as number), 8);
    expect(two!.total_bid_size).toBeCloseTo((u[0]!.bid_size as number) + (u[1]!.bid_size as number), 8);
  });

  it("aggregates by a supported level and answers [] for an unsupported one", () => {
    const [book] = rows("/v1/orderbook", "markets=KRW-BTC&level=10000&count=5");
    expect(book!.level).toBe(10000);
    for (const u of (book!.orderbook_units as Row[]).filter((x) => x.ask_price !== 0)) {
      expect((u.ask_price as number) % 10000).toBe(0);
    }
    expect(rows("/v1/orderbook", "markets=BTC-ETH&level=100")).toEqual([]);
    expect(rows("/v1/orderbook", "markets=KRW-BTC&level=12345")).toEqual([]);
    expect(refusal("/v1/orderbook", "markets=KRW-BTC,KRW-NOPE")).toEqual({ status: 404, message: CODE_NOT_FOUND_MESSAGE });
  });

  it("lists tick sizes and levels as strings", () => {
    expect(rows("/v1/orderbook/instruments", "markets=KRW-BTC,btc-eth")).toEqual([
      { market: "KRW-BTC", quote_currency: "KRW", tick_size: "1000", supported_levels: ["0", "10000", "100000", "1000000"] },
      { market: "BTC-ETH", quote_currency: "BTC", tick_size: "0.00000001", supported_levels: ["0"] },
    ]);
  });
});

describe("trades", () => {
  const ids = (body: string): string[] => [...body.matchAll(/"sequential_id":(\d+)/g)].map((m) => m[1]!);

  it("answer the newest trade by default, its sequential_id as an exact integer", () => {
    const body = text("/v1/trades/ticks", "market=KRW-BTC");
    const [trade] = JSON.parse(body) as Row[];
    expect(Object.keys(trade!)).toEqual([
      "market", "trade_date_utc", "trade_time_utc", "timestamp", "trade_price", "trade_volume", "prev_closing_price",
      "change_price", "ask_bid", "sequential_id",
    ]);
    const [id] = ids(body);
    expect(BigInt(id!)).toBe(BigInt(trade!.timestamp as number) * 10_000n);
    expect(BigInt(id!) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it("page with cursor, newest first, without gaps or repeats", () => {
    const whole = ids(text("/v1/trades/ticks", "market=KRW-BTC&count=90"));
    const paged: string[] = [];
    let cursor = "";
    for (let page = 0; page < 3; page++) {
      const got = ids(text("/v1/trades/ticks", `market=KRW-BTC&count=30${cursor}`));
      paged.push(...got);
      cursor = `&cursor=${got[got.length - 1]!}`;
    }
    expect(paged).toEqual(whole);
    expect(whole.map(BigInt)).toEqual(whole.map(BigInt).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
  });

  it("read one UTC day with days_ago and stop before `to`", () => {
    const yesterday = rows("/v1/trades/ticks", "market=KRW-BTC&days_ago=1&count=500");
    expect(yesterday).toHaveLength(500);
    expect(new Set(yesterday.map((t) => t.trade_date_utc))).toEqual(new Set(["2026-03-10"]));
    const early = rows("/v1/trades/ticks", "market=KRW-BTC&days_ago=1&to=01:00:00&count=5");
    expect(early[0]!.trade_time_utc as string < "01:00:00").toBe(true);
    expect(rows("/v1/trades/ticks", "market=KRW-BTC&days_ago=1&to=010000&count=5")).toEqual(early);
  });

  it("refuse out-of-range count and days_ago", () => {
    expect(rows("/v1/trades/ticks", "market=KRW-BTC&count=500")).toHaveLength(500);
    for (const q of ["count=501", "count=0", "days_ago=8", "days_ago=0", "to=25:00:00", "cursor=abc"]) {
      expect(refusal("/v1/trades/ticks", `market=KRW-BTC&${q}`)).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
    }
    expect(refusal("/v1/trades/ticks", "market=KRW-NOPE").status).toBe(404);
  });
});

describe("market list", () => {
  it("adds market_event only with is_details=true", () => {
    expect(Object.keys(rows("/v1/market/all")[0]!)).toEqual(["market", "korean_name", "english_name"]);
    const [detailed] = rows("/v1/market/all", "is_details=true");
    expect(detailed!.market_event).toEqual({
      warning: false,
      caution: {
        PRICE_FLUCTUATIONS: false, TRADING_VOLUME_SOARING: false, DEPOSIT_AMOUNT_SOARING: false,
        GLOBAL_PRICE_DIFFERENCES: false, CONCENTRATION_OF_SMALL_ACCOUNTS: false,
      },
    });
    expect(refusal("/v1/market/all", "is_details=perhaps").message).toBe(TYPE_MISMATCH_MESSAGE);
  });
});

describe("any query string", () => {
  const paths = [
    "/v1/market/all", "/v1/candles/seconds", "/v1/candles/minutes/1", "/v1/candles/minutes/x", "/v1/candles/days",
    "/v1/candles/weeks", "/v1/candles/years", "/v1/ticker", "/v1/ticker/all", "/v1/orderbook", "/v1/orderbook/instruments",
    "/v1/trades/ticks",
  ];
  const names = ["market", "markets", "count", "to", "level", "cursor", "days_ago", "is_details", "quote_currencies", "converting_price_unit"];
  const value = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("KRW-BTC", "krw-quiet", "KRW-BTC,KRW-NOPE", "BTC-ETH", "KRW", "0", "-1", "200", "500", "10000", "true"),
    fc.integer({ min: -1_000, max: 1_000 }).map(String),
    fc.date({ min: new Date(0), max: new Date(FAKE_NOW + 86_400_000), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19) + "Z"),
  );
  const queryArb = fc.oneof(
    fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString()),
    fc.string({ unit: "binary", maxLength: 40 }),
  );

  it("gets a JSON array or Upbit's 400/404, never anything else", () => {
    fc.assert(
      fc.property(fc.constantFrom(...paths), queryArb, (path, query) => {
        try {
          expect(Array.isArray(JSON.parse(text(path, query)))).toBe(true);
        } catch (e) {
          if (!(e instanceof UpbitRequestError)) throw e;
          expect([400, 404]).toContain(e.status);
        }
      }),
      { numRuns: 300 },
    );
  });
});
