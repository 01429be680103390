import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseCandles,
  parseMarkets,
  parseOrderbookInstruments,
  parseOrderbooks,
  parseTickers,
  parseTrades,
  parseUpbitError,
} from "../../../src/gateway/upstream/upbit-rest-parsers.js";
import { isUpstreamProtocolError, UpstreamProtocolError } from "../../../src/gateway/upstream/upstream-errors.js";
import { FIXTURES_DIR } from "../../support/fixtures.js";

const FIXTURES = FIXTURES_DIR;
const fixture = (name: string): string => readFileSync(`${FIXTURES}/${name}`, "utf8");
const fixtureJson = <T>(name: string): T => JSON.parse(fixture(name)) as T;

/** The thrown UpstreamProtocolError, failing the test when something else (or nothing) is thrown. */
function protocolError(fn: () => unknown): UpstreamProtocolError {
  try {
    fn();
  } catch (e) {
    if (isUpstreamProtocolError(e)) return e;
    throw new Error(`expected UpstreamProtocolError, got ${String(e)}`);
  }
  throw new Error("expected UpstreamProtocolError, got a value");
}

const MIN = "/v1/candles/minutes/1";

describe("parseCandles on recorded replies", () => {
  it("reads a 1-minute candle (2026 recording): bucket start from candle_date_time_utc as UTC, not timestamp", () => {
    expect(parseCandles(fixture("candles-minutes.json"), MIN)).toEqual([
      {
        market: "KRW-BTC",
        timeMs: Date.UTC(2026, 2, 11, 14, 40, 0),
        open: 103_600_000,
        high: 103_600_000,
        low: 103_425_000,
        close: 103_460_000,
        volume: 1.5933512,
        quoteVolume: 164_899_503.14206,
        timestampMs: 1_773_240_059_132,
      },
    ]);
  });

  it("reads the raw 2020 wire spelling (8 fractional digits)", () => {
    const [c] = parseCandles(fixture("candles-minutes.raw-2020.json"), MIN);
    expect(c).toMatchObject({ timeMs: Date.UTC(2020, 1, 25, 6, 41), open: 11_436_000, close: 11_443_000, quoteVolume: 17_001_839.06758, volume: 1.48642105 });
  });

  it("reads the raw 2023 dump newest first, with a timestamp past the bucket end left as it is", () => {
    const candles = parseCandles(fixture("candles-minutes.raw-2023.json"), MIN);
    expect(candles.map((c) => new Date(c.timeMs).toISOString())).toEqual([
      "2023-10-30T12:17:00.000Z",
      "2023-10-30T12:16:00.000Z",
      "2023-10-30T11:35:00.000Z",
      "2023-10-30T11:34:00.000Z",
    ]);
    expect(candles[0]).toMatchObject({ close: 47_004_000, high: 47_005_000, volume: 22.08628287, timestampMs: 1_698_668_280_011 });
    expect((candles[0]?.timestampMs ?? 0) - (candles[0]?.timeMs ?? 0)).toBe(60_011);
  });

  it.each([
    ["candles-seconds.json", "/v1/candles/seconds", Date.UTC(2026, 2, 11, 14, 40, 58), 103_458_000, 0.0256597],
    ["candles-days.json", "/v1/candles/days", Date.UTC(2026, 2, 11), 103_460_000, 1024.30999241],
    ["candles-weeks.json", "/v1/candles/weeks", Date.UTC(2026, 2, 9), 103_460_000, 5004.32824461],
    ["candles-months.json", "/v1/candles/months", Date.UTC(2026, 2, 1), 103_458_000, 24783.48727285],
    ["candles-years.json", "/v1/candles/years", Date.UTC(2026, 0, 1), 103_458_000, 158145.17293],
  ])("reads %s", (file, endpoint, timeMs, close, volume) => {
    const candles = parseCandles(fixture(file), endpoint);
    expect(candles).toHaveLength(1);
    expect(candles[0]).toMatchObject({ market: "KRW-BTC", timeMs, close, volume });
  });

  it("names the endpoint and the field when a value is wrong", () => {
    const rows = fixtureJson<Array<Record<string, unknown>>>("candles-minutes.raw-2023.json");
    const broken = rows.map((r, i) => (i === 2 ? { ...r, trade_price: null } : r));
    const e = protocolError(() => parseCandles(JSON.stringify(broken), MIN));
    expect(e.endpoint).toBe(MIN);
    expect(e.field).toBe("[2].trade_price");
    expect(e.message).toBe("upbit /v1/candles/minutes/1: [2].trade_price must be a finite number, got null");
  });

  it.each([
    ["2026-03-11T14:40:00Z", "zone suffix"],
    ["2026-03-11 14:40:00", "space"],
    ["2026-02-30T00:00:00", "no such day"],
    ["2026-03-11T24:00:00", "hour 24"],
    ["", "empty"],
  ])("refuses candle_date_time_utc %j (%s)", (value) => {
    const row = { ...fixtureJson<Array<Record<string, unknown>>>("candles-minutes.json")[0], candle_date_time_utc: value };
    expect(protocolError(() => parseCandles(JSON.stringify([row]), MIN)).field).toBe("[0].candle_date_time_utc");
  });

  it("refuses a negative price, a missing volume and a fractional timestamp", () => {
    const base = fixtureJson<Array<Record<string, unknown>>>("candles-minutes.json")[0] ?? {};
    const { candle_acc_trade_volume: _dropped, ...noVolume } = base;
    expect(protocolError(() => parseCandles(JSON.stringify([{ ...base, low_price: -1 }]), MIN)).field).toBe("[0].low_price");
    expect(protocolError(() => parseCandles(JSON.stringify([noVolume]), MIN)).message).toMatch(/candle_acc_trade_volume must be a finite number, got nothing/);
    expect(protocolError(() => parseCandles(JSON.stringify([{ ...base, timestamp: 1.5 }]), MIN)).field).toBe("[0].timestamp");
  });
});

describe("parseTickers on recorded replies", () => {
  it("reads the KRW-BTC ticker", () => {
    expect(parseTickers(fixture("ticker.json"))).toEqual([
      {
        market: "KRW-BTC",
        tradeTimestampMs: 1_773_240_058_930,
        openingPrice: 102_417_000,
        highPrice: 103_988_000,
        lowPrice: 101_150_000,
        tradePrice: 103_493_000,
        prevClosingPrice: 102_417_000,
        change: "RISE",
        changePrice: 1_076_000,
        changeRate: 0.0105060683,
        signedChangePrice: 1_076_000,
        signedChangeRate: 0.0105060683,
        tradeVolume: 0.00094678,
        accTradePrice: 104_890_185_475.22821,
        accTradePrice24h: 162_997_300_132.123,
        accTradeVolume: 1024.30599241,
        accTradeVolume24h: 1587.73606087,
        highest52WeekPrice: 179_869_000,
        highest52WeekDate: "2025-10-09",
        lowest52WeekPrice: 89_000_000,
        lowest52WeekDate: "2026-02-06",
        timestampMs: 1_773_240_058_973,
      },
    ]);
  });

  it("reads all 244 KRW tickers of /v1/ticker/all, including falling ones", () => {
    const tickers = parseTickers(fixture("ticker-all-krw.json"), "/v1/ticker/all");
    expect(tickers).toHaveLength(244);
    expect(new Set(tickers.map((t) => t.market)).size).toBe(244);
    expect(tickers.every((t) => t.market.startsWith("KRW-"))).toBe(true);
    expect(tickers[0]).toMatchObject({ market: "KRW-XRP", tradePrice: 2045, change: "RISE", signedChangePrice: 15 });
    expect(tickers.find((t) => t.market === "KRW-BTC")?.tradePrice).toBe(103_458_000);
    const falling = tickers.filter((t) => t.change === "FALL");
    expect(falling.length).toBeGreaterThan(0);
    expect(falling.every((t) => t.signedChangePrice < 0 && t.changePrice > 0)).toBe(true);
  });

  it("refuses an unknown change and a malformed date", () => {
    const base = fixtureJson<Array<Record<string, unknown>>>("ticker.json")[0] ?? {};
    expect(protocolError(() => parseTickers(JSON.stringify([{ ...base, change: "UP" }]))).message).toMatch(/\[0\]\.change must be one of RISE\/EVEN\/FALL, got string "UP"/);
    expect(protocolError(() => parseTickers(JSON.stringify([{ ...base, lowest_52_week_date: "20260206" }]))).field).toBe("[0].lowest_52_week_date");
  });
});

describe("parseOrderbooks on recorded replies", () => {
  it("reads the 30-level KRW-BTC book, best first", () => {
    const [book] = parseOrderbooks(fixture("orderbook.json"));
    expect(book).toMatchObject({ market: "KRW-BTC", timestampMs: 1_773_240_059_027, totalAskSize: 4.17884094, totalBidSize: 2.29686376, level: 0 });
    expect(book?.units).toHaveLength(30);
    expect(book?.units[0]).toEqual({ askPrice: 103_493_000, askSize: 0.04910155, bidPrice: 103_460_000, bidSize: 0.004 });
    expect(book?.units[28]?.bidSize).toBe(0.00004843);
    expect(book?.units[29]).toEqual({ askPrice: 103_599_000, askSize: 0.0559, bidPrice: 103_328_000, bidSize: 0.00241947 });
  });

  it("drops zero-padded slots and keeps a padded side only next to a real one", () => {
    const units = [
      { bid_price: 100, bid_size: 1, ask_price: 101, ask_size: 2 },
      { bid_price: 99, bid_size: 3, ask_price: 0, ask_size: 0 },
      { bid_price: 0, bid_size: 0, ask_price: 0, ask_size: 0 },
      { bid_price: 0, bid_size: 0, ask_price: 0, ask_size: 0 },
    ];
    const text = JSON.stringify([{ market: "KRW-X", timestamp: 1, total_ask_size: 2, total_bid_size: 4, orderbook_units: units, level: 0 }]);
    expect(parseOrderbooks(text)[0]?.units).toEqual([
      { bidPrice: 100, bidSize: 1, askPrice: 101, askSize: 2 },
      { bidPrice: 99, bidSize: 3, askPrice: 0, askSize: 0 },
    ]);
  });

  it("refuses a size on a zero-priced slot and a unit that is not an object", () => {
    const book = (units: unknown[]) => JSON.stringify([{ market: "KRW-X", timestamp: 1, total_ask_size: 0, total_bid_size: 0, orderbook_units: units, level: 0 }]);
    expect(protocolError(() => parseOrderbooks(book([{ bid_price: 0, bid_size: 1, ask_price: 5, ask_size: 1 }]))).field).toBe("[0].orderbook_units[0].bid_size");
    expect(protocolError(() => parseOrderbooks(book([7]))).field).toBe("[0].orderbook_units[0]");
  });

  it("reads Upbit's [] for an unsupported level", () => {
    expect(parseOrderbooks("[]")).toEqual([]);
  });
});

describe("parseOrderbookInstruments", () => {
  it("reads tick size and levels as exact decimal strings", () => {
    expect(parseOrderbookInstruments(fixture("orderbook-instruments.json"))).toEqual([
      { market: "KRW-BTC", quoteCurrency: "KRW", tickSize: "1000", supportedLevels: ["0", "10000", "100000", "1000000", "10000000", "100000000"] },
    ]);
  });

  it("refuses numeric levels (the deprecated supported_levels shape)", () => {
    const text = JSON.stringify([{ market: "KRW-BTC", quote_currency: "KRW", tick_size: "1000", supported_levels: [0, 10000] }]);
    expect(protocolError(() => parseOrderbookInstruments(text)).field).toBe("[0].supported_levels[0]");
  });
});

describe("parseTrades", () => {
  it("reads the recorded trade with its exact sequential_id", () => {
    expect(parseTrades(fixture("trades-ticks.json"))).toEqual([
      {
        market: "KRW-BTC",
        tradeTimestampMs: 1_773_240_059_095,
        tradePrice: 103_460_000,
        tradeVolume: 0.004,
        askBid: "ASK",
        prevClosingPrice: 102_417_000,
        changePrice: 1_043_000,
        sequentialId: 17732400590950000n,
      },
    ]);
  });

  it("keeps ids that a double cannot hold", () => {
    const row = fixture("trades-ticks.json").replace("17732400590950000", "17303368620800007");
    expect(parseTrades(row)[0]?.sequentialId).toBe(17303368620800007n);
  });

  it("refuses a non-integer or negative id and an unknown side", () => {
    const text = fixture("trades-ticks.json");
    expect(protocolError(() => parseTrades(text.replace("17732400590950000", "1.7732400590950000E16"))).field).toBe("[0].sequential_id");
    expect(protocolError(() => parseTrades(text.replace("17732400590950000", "-5"))).field).toBe("[0].sequential_id");
    expect(protocolError(() => parseTrades(text.replace('"ASK"', '"SELL"'))).field).toBe("[0].ask_bid");
  });
});

describe("parseMarkets", () => {
  it("reads the documented rows without details", () => {
    const rows = fixtureJson<Record<string, unknown>>("market-all.json").docs_tutorial_first_and_last_rows_no_details;
    expect(parseMarkets(JSON.stringify(rows))).toEqual([
      { market: "KRW-BTC", koreanName: "비트코인", englishName: "Bitcoin" },
      { market: "KRW-POLYX", koreanName: "폴리매쉬", englishName: "Polymesh" },
    ]);
  });

  it("reads market_event with details, and the legacy market_warning", () => {
    const detailed = [
      {
        market: "KRW-BTC",
        korean_name: "비트코인",
        english_name: "Bitcoin",
        market_event: {
          warning: true,
          caution: {
            PRICE_FLUCTUATIONS: false,
            TRADING_VOLUME_SOARING: true,
            DEPOSIT_AMOUNT_SOARING: false,
            GLOBAL_PRICE_DIFFERENCES: false,
            CONCENTRATION_OF_SMALL_ACCOUNTS: false,
          },
        },
      },
    ];
    expect(parseMarkets(JSON.stringify(detailed))[0]).toMatchObject({ warning: true, caution: { TRADING_VOLUME_SOARING: true, PRICE_FLUCTUATIONS: false } });
    const legacy = fixtureJson<Record<string, unknown>>("market-all.json").legacy_shape_before_2024_11_20_with_is_details;
    expect(parseMarkets(JSON.stringify(legacy))).toEqual([{ market: "KRW-BTC", koreanName: "비트코인", englishName: "Bitcoin", warning: false }]);
  });

  it("refuses a caution flag that is not a boolean", () => {
    const rows = [{ market: "KRW-BTC", korean_name: "a", english_name: "b", market_event: { warning: false, caution: { PRICE_FLUCTUATIONS: "N" } } }];
    expect(protocolError(() => parseMarkets(JSON.stringify(rows))).field).toBe("[0].market_event.caution.PRICE_FLUCTUATIONS");
  });
});

describe("parseUpbitError on recorded error replies", () => {
  const recorded = fixtureJson<Array<{ request: string; status: number; body: unknown }>>("errors.json");

  it.each(recorded.map((r) => [r.request, r] as const))("reads %s", (_request, r) => {
    const parsed = parseUpbitError(JSON.stringify(r.body));
    expect(parsed).toEqual((r.body as { error: unknown }).error);
  });

  it("keeps a numeric name for quotation errors and a string one for gateway errors", () => {
    expect(parseUpbitError(JSON.stringify(recorded[0]?.body))).toEqual({ name: 404, message: "Code not found" });
    expect(parseUpbitError(JSON.stringify(recorded[5]?.body))).toEqual({ name: "not_found", message: "no Route matched with those values" });
  });

  it("gives undefined for bodies that are not Upbit errors", () => {
    for (const text of ["<html>maintenance</html>", "", "[]", '{"error":"x"}', '{"error":{"name":null,"message":"m"}}']) {
      expect(parseUpbitError(text)).toBeUndefined();
    }
  });
});

describe("ccxt's static responses (every number a string) are not the wire and are refused", () => {
  const ccxt = fixtureJson<Record<string, unknown>>("ccxt-static-responses.json");
  const text = (key: string) => JSON.stringify(ccxt[key]);

  it("trades: timestamp as a string", () => {
    const e = protocolError(() => parseTrades(text("trades_ticks_USDT-BTC_count_1")));
    expect(e.field).toBe("[0].timestamp");
    expect(e.problem).toBe('must be epoch milliseconds (integer >= 0), got string "1710327571922"');
  });

  it("ticker: trade_timestamp as a string", () => {
    expect(protocolError(() => parseTickers(text("ticker_USDT-BTC"))).field).toBe("[0].trade_timestamp");
  });

  it("candles: opening_price as a string", () => {
    const e = protocolError(() => parseCandles(text("candles_minutes_60_USDT-BTC_count_1"), "/v1/candles/minutes/60"));
    expect(e.field).toBe("[0].opening_price");
    expect(e.endpoint).toBe("/v1/candles/minutes/60");
  });

  it("trades: a quoted sequential_id alone is refused too", () => {
    const t = fixture("trades-ticks.json").replace("17732400590950000", '"17732400590950000"');
    expect(protocolError(() => parseTrades(t)).field).toBe("[0].sequential_id");
  });
});

describe("whole-body problems", () => {
  const parsers: Array<[string, (text: string) => unknown]> = [
    ["markets", (t) => parseMarkets(t)],
    ["candles", (t) => parseCandles(t, MIN)],
    ["tickers", (t) => parseTickers(t)],
    ["orderbooks", (t) => parseOrderbooks(t)],
    ["instruments", (t) => parseOrderbookInstruments(t)],
    ["trades", (t) => parseTrades(t)],
  ];

  it.each(parsers)("%s: non-JSON, truncated, non-array and non-object rows are protocol errors naming the body", (_name, parse) => {
    expect(protocolError(() => parse("<html>502 Bad Gateway</html>")).field).toBe("body");
    expect(protocolError(() => parse('[{"market":"KRW-BTC","ti')).field).toBe("body");
    expect(protocolError(() => parse("")).field).toBe("body");
    expect(protocolError(() => parse('{"market":"KRW-BTC"}')).problem).toBe("must be a JSON array, got an object");
    expect(protocolError(() => parse("[1]")).field).toBe("[0]");
    expect(protocolError(() => parse("[null]")).field).toBe("[0]");
    expect(parse("[]")).toEqual([]);
  });
});

describe("fuzzing: any input gives a value or an UpstreamProtocolError", () => {
  const cases: Array<[string, string, (text: string) => unknown]> = [
    ["candles-minutes.raw-2023.json", "candles", (t) => parseCandles(t, MIN)],
    ["candles-days.json", "candles", (t) => parseCandles(t, "/v1/candles/days")],
    ["ticker.json", "tickers", (t) => parseTickers(t)],
    ["orderbook.json", "orderbooks", (t) => parseOrderbooks(t)],
    ["orderbook-instruments.json", "instruments", (t) => parseOrderbookInstruments(t)],
    ["trades-ticks.json", "trades", (t) => parseTrades(t)],
  ];

  /** Runs `parse`; anything thrown other than an UpstreamProtocolError fails the property. */
  function outcome(parse: (text: string) => unknown, text: string): "value" | "protocol-error" {
    try {
      const value = parse(text);
      expect(Array.isArray(value)).toBe(true);
      return "value";
    } catch (e) {
      if (isUpstreamProtocolError(e)) return "protocol-error";
      throw e;
    }
  }

  it.each(cases)("%s: random truncations", (file, _name, parse) => {
    const text = fixture(file);
    const body = text.trimEnd();
    fc.assert(
      fc.property(fc.nat({ max: body.length - 1 }), (cut) => {
        // Every proper prefix of a JSON array lacks its closing bracket.
        expect(outcome(parse, body.slice(0, cut))).toBe("protocol-error");
      }),
      { numRuns: 300 },
    );
  });

  it.each(cases)("%s: random JSON documents", (_file, _name, parse) => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        outcome(parse, JSON.stringify(value) ?? "null");
      }),
      { numRuns: 300 },
    );
  });

  it.each(cases)("%s: one field of a real row replaced by a random value or removed", (file, _name, parse) => {
    const rows = JSON.parse(fixture(file)) as Array<Record<string, unknown>>;
    const first = rows[0] ?? {};
    const keys = Object.keys(first);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.option(fc.jsonValue(), { nil: undefined }), (key, replacement) => {
        const mutated = { ...first };
        if (replacement === undefined) delete mutated[key];
        else mutated[key] = replacement;
        const text = JSON.stringify([mutated, ...rows.slice(1)]);
        if (outcome(parse, text) === "value") {
          // A value came back: every number in it must be finite (no NaN smuggled through).
          const parsed = parse(text) as unknown[];
          JSON.stringify(parsed, (_k, v: unknown) => {
            if (typeof v === "number") expect(Number.isFinite(v)).toBe(true);
            return typeof v === "bigint" ? v.toString() : v;
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("random text is a protocol error, never a crash", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        for (const [, , parse] of cases) outcome(parse, text);
      }),
      { numRuns: 300 },
    );
  });
});
