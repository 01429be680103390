import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { UpbitTicker } from "../../../src/gateway/upstream/upbit-types.js";
import {
  parseJsonPreservingLargeIntegers,
  parseUpbitWebSocketFrame,
  UpbitWebSocketFrameError,
  UpbitWebSocketServerError,
  type UpbitWebSocketMessage,
} from "../../../src/gateway/upstream/upbit-websocket-parsers.js";
import { FIXTURES_DIR } from "../../support/fixtures.js";
import { CANDLE_KEYS, ORDERBOOK_KEYS, TICKER_KEYS, TRADE_KEYS } from "../../support/upbit-simple-keys.js";

const FIXTURES = FIXTURES_DIR;
const fixture = (name: string): string => readFileSync(`${FIXTURES}/${name}`, "utf8");

/**
 * The raw text of the JSON value at `path` inside `text`, spelling untouched (`1.16539E8`, 17-digit
 * ids), so the parsers see the bytes Upbit sent rather than a re-serialisation.
 */
function rawAt(text: string, ...path: (string | number)[]): string {
  let i = 0;
  const space = () => {
    while (/\s/.test(text[i] ?? "")) i++;
  };
  const skipString = () => {
    i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    space();
    const open = text[i];
    if (open === '"') return skipString();
    if (open === "{" || open === "[") {
      let depth = 0;
      do {
        if (text[i] === '"') {
          skipString();
          continue;
        }
        if (text[i] === "{" || text[i] === "[") depth++;
        if (text[i] === "}" || text[i] === "]") depth--;
        i++;
      } while (depth > 0);
      return;
    }
    while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++;
  };
  for (const step of path) {
    space();
    if (typeof step === "number") {
      i++; // [
      for (let n = 0; n < step; n++) {
        skipValue();
        space();
        i++; // ,
      }
      continue;
    }
    i++; // {
    for (;;) {
      space();
      const keyStart = i;
      skipString();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      space();
      i++; // :
      if (key === step) break;
      skipValue();
      space();
      i++; // ,
    }
  }
  space();
  const start = i;
  skipValue();
  return text.slice(start, i);
}

/** Rewrites the keys of a raw DEFAULT frame to SIMPLE, keeping every value's spelling. */
function toSimple(raw: string, keys: Record<string, string>): string {
  return raw.replace(/"([a-z0-9_]+)":/g, (whole, key: string) => (keys[key] === undefined ? whole : `"${keys[key]}":`));
}

function only(messages: UpbitWebSocketMessage[]): UpbitWebSocketMessage {
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

function tickerOf(frame: string | Buffer): UpbitTicker {
  const m = only(parseUpbitWebSocketFrame(frame));
  if (m.kind !== "ticker") throw new Error(`expected a ticker, got ${m.kind}: ${m.kind === "invalid" ? m.error.message : ""}`);
  return m.ticker;
}

const invalidOf = (frame: string | Buffer): UpbitWebSocketFrameError => {
  const m = only(parseUpbitWebSocketFrame(frame));
  if (m.kind !== "invalid") throw new Error(`expected invalid, got ${m.kind}`);
  expect(m.error).toBeInstanceOf(UpbitWebSocketFrameError);
  return m.error;
};

describe("ticker frames (ws-ticker.json)", () => {
  const text = fixture("ws-ticker.json");
  const raw = rawAt(text, "docs_example_default_2023");
  const expected: UpbitTicker = {
    market: "KRW-BTC",
    tradeTimestampMs: 1676965262139,
    openingPrice: 31883000,
    highPrice: 32310000,
    lowPrice: 31855000,
    tradePrice: 32287000,
    prevClosingPrice: 31883000,
    change: "RISE",
    changePrice: 404000,
    changeRate: 0.0126713295,
    signedChangePrice: 404000,
    signedChangeRate: 0.0126713295,
    tradeVolume: 0.03103806,
    accTradePrice: 78039261076.51241,
    accTradePrice24h: 228827082483.70729,
    accTradeVolume: 2429.58834336,
    accTradeVolume24h: 7158.8028356,
    highest52WeekPrice: 57678000,
    highest52WeekDate: "2022-03-28",
    lowest52WeekPrice: 20700000,
    lowest52WeekDate: "2022-12-30",
    timestampMs: 1676965262177,
    askBid: "ASK",
    accAskVolume: 1146.25573608,
    accBidVolume: 1283.33260728,
    marketState: "ACTIVE",
    delistingDate: null,
    marketWarning: "NONE",
    isTradingSuspended: false,
    streamType: "REALTIME",
  };

  it("parses the DEFAULT docs example, binary or text, into concrete values", () => {
    expect(tickerOf(Buffer.from(raw, "utf8"))).toStrictEqual(expected);
    expect(tickerOf(raw)).toStrictEqual(expected);
  });

  it("parses the same ticker in SIMPLE keys to the same object", () => {
    const simple = toSimple(raw, TICKER_KEYS);
    expect(simple).toContain('"tdt":"20230221"');
    expect(tickerOf(Buffer.from(simple))).toStrictEqual(expected);
  });

  it("parses JSON_LIST and SIMPLE_LIST arrays element by element", () => {
    const list = parseUpbitWebSocketFrame(Buffer.from(`[${toSimple(raw, TICKER_KEYS)},${raw}]`));
    expect(list.map((m) => m.kind)).toEqual(["ticker", "ticker"]);
    expect(list.map((m) => (m.kind === "ticker" ? m.ticker : undefined))).toStrictEqual([expected, expected]);
  });

  it("parses the 2018 legacy capture keyed by market instead of type/code", () => {
    const t = tickerOf(rawAt(text, "docs_legacy_capture_2018"));
    expect(t.market).toBe("KRW-BTC");
    expect(t.tradePrice).toBe(8629000);
    expect(t.tradeTimestampMs).toBe(1524046049000);
    expect(t.timestampMs).toBe(1524046049766);
    expect(t.streamType).toBeUndefined();
  });

  it("falls back to trade_date yyyyMMdd + trade_time HHmmss (UTC) without trade_timestamp", () => {
    const noTs = raw.replace('"trade_timestamp":1676965262139,', "");
    expect(tickerOf(noTs).tradeTimestampMs).toBe(Date.UTC(2023, 1, 21, 7, 41, 2));
    // The trade spelling yyyy-MM-dd is not a ticker date.
    const err = invalidOf(noTs.replace('"trade_date":"20230221"', '"trade_date":"2023-02-21"'));
    expect(err.field).toBe("trade_date");
  });

  it("upper-cases codes and normalises yyyyMMdd 52-week dates", () => {
    const t = tickerOf(raw.replace('"code":"KRW-BTC"', '"code":"krw-btc"').replace('"2022-03-28"', '"20220328"'));
    expect(t.market).toBe("KRW-BTC");
    expect(t.highest52WeekDate).toBe("2022-03-28");
  });

  it.each([
    ['"trade_price":32287000', '"trade_price":"32287000"', "trade_price"],
    ['"change":"RISE"', '"change":"UP"', "change"],
    ['"timestamp":1676965262177', '"timestamp":1.5', "timestamp"],
    ['"code":"KRW-BTC"', '"code":7', "code"],
    ['"stream_type":"REALTIME"', '"stream_type":"LIVE"', "stream_type"],
    ['"is_trading_suspended":false', '"is_trading_suspended":"no"', "is_trading_suspended"],
    ['"highest_52_week_date":"2022-03-28"', '"highest_52_week_date":"2022-02-30"', "highest_52_week_date"],
  ])("rejects %s → %s with a typed error naming the field", (from, to, field) => {
    expect(raw).toContain(from);
    expect(invalidOf(raw.replace(from, to)).field).toBe(field);
  });

  it("names the SIMPLE key when a SIMPLE field is wrong", () => {
    expect(invalidOf(toSimple(raw, TICKER_KEYS).replace('"tp":32287000', '"tp":null')).field).toBe("tp");
  });
});

describe("trade frames (ws-trade.json)", () => {
  const text = fixture("ws-trade.json");
  const list = rawAt(text, "docs_example_default");

  it("keeps sequential_id exact beyond 2^53, in JSON_LIST and one-object frames", () => {
    const trades = parseUpbitWebSocketFrame(Buffer.from(list)).map((m) => (m.kind === "trade" ? m.trade : m.kind));
    expect(trades).toStrictEqual([
      {
        market: "KRW-BTC",
        tradeTimestampMs: 1730336862047,
        tradePrice: 100473000,
        tradeVolume: 0.00014208,
        askBid: "BID",
        prevClosingPrice: 100571000,
        changePrice: 98000,
        sequentialId: 17303368620470000n,
        change: "FALL",
        bestAskPrice: 100473000,
        bestAskSize: 0.43139478,
        bestBidPrice: 100465000,
        bestBidSize: 0.01990656,
        timestampMs: 1730336862082,
        streamType: "SNAPSHOT",
      },
      expect.objectContaining({ market: "KRW-ETH", sequentialId: 17303368620800006n, tradeTimestampMs: 1730336862080 }),
    ]);
    // JSON.parse would have produced …004 or …008 here.
    expect(Number.isSafeInteger(17303368620800006)).toBe(false);
    const one = only(parseUpbitWebSocketFrame(rawAt(text, "docs_example_default", 1)));
    expect(one.kind === "trade" && one.trade.sequentialId).toBe(17303368620800006n);
  });

  it("parses SIMPLE_LIST to the same trades", () => {
    const simple = toSimple(list, TRADE_KEYS);
    expect(simple).toContain('"sid":17303368620800006');
    expect(parseUpbitWebSocketFrame(Buffer.from(simple))).toStrictEqual(parseUpbitWebSocketFrame(Buffer.from(list)));
  });

  it("falls back to trade_date yyyy-MM-dd + trade_time HH:mm:ss (UTC) and rejects the ticker spelling", () => {
    const raw = rawAt(text, "docs_example_default", 0).replace('"trade_timestamp":1730336862047,', "");
    const m = only(parseUpbitWebSocketFrame(raw));
    expect(m.kind === "trade" && m.trade.tradeTimestampMs).toBe(Date.UTC(2024, 9, 31, 1, 7, 42));
    expect(invalidOf(raw.replace('"2024-10-31"', '"20241031"')).field).toBe("trade_date");
  });

  it("rejects a fractional or negative sequential_id", () => {
    const raw = rawAt(text, "docs_example_default", 0);
    expect(invalidOf(raw.replace("17303368620470000", "1.5")).field).toBe("sequential_id");
    expect(invalidOf(raw.replace("17303368620470000", "-17303368620470000")).field).toBe("sequential_id");
  });
});

describe("orderbook frames (ws-orderbook.json)", () => {
  const text = fixture("ws-orderbook.json");
  const orderbookOf = (frame: string) => {
    const m = only(parseUpbitWebSocketFrame(Buffer.from(frame)));
    if (m.kind !== "orderbook") throw new Error(`expected an orderbook, got ${m.kind}`);
    return m.orderbook;
  };

  it("parses the recorded DEFAULT snapshot with Java exponent prices", () => {
    expect(orderbookOf(rawAt(text, "recorded_2026_09_23", "default_snapshot_trimmed_to_2_units"))).toStrictEqual({
      market: "KRW-BTC",
      timestampMs: 1790134742106,
      totalAskSize: 2.51469375,
      totalBidSize: 1.63815297,
      units: [
        { askPrice: 116539000, bidPrice: 116538000, askSize: 0.02054761, bidSize: 0.08120946 },
        { askPrice: 116542000, bidPrice: 116537000, askSize: 0.0007772, bidSize: 0.01129382 },
      ],
      level: 0,
      streamType: "SNAPSHOT",
    });
    const realtime = orderbookOf(rawAt(text, "recorded_2026_09_23", "default_realtime_trimmed_to_2_units"));
    expect(realtime.streamType).toBe("REALTIME");
    expect(realtime.units[0]?.bidSize).toBe(0.06612366);
  });

  it("parses the recorded SIMPLE snapshot with exponent sizes", () => {
    expect(orderbookOf(rawAt(text, "recorded_2026_09_23", "simple_snapshot_trimmed_to_2_units"))).toStrictEqual({
      market: "KRW-BTC",
      timestampMs: 1790134773006,
      totalAskSize: 0.48514983,
      totalBidSize: 2.2403413,
      units: [
        { askPrice: 116606000, bidPrice: 116534000, askSize: 0.06288509, bidSize: 0.00079276 },
        { askPrice: 116609000, bidPrice: 116521000, askSize: 0.0005, bidSize: 0.01624318 },
      ],
      level: 0,
      streamType: "SNAPSHOT",
    });
  });

  it("parses the docs DEFAULT example and its SIMPLE spelling alike, and the SIMPLE_LIST example", () => {
    const raw = rawAt(text, "docs_example_default");
    const book = orderbookOf(raw);
    expect(book.units).toHaveLength(3);
    expect(book.units[2]).toEqual({ askPrice: 137050000, bidPrice: 136999000, askSize: 0.0055433, bidSize: 0.00104379 });
    expect(orderbookOf(toSimple(raw, ORDERBOOK_KEYS))).toStrictEqual(book);

    const list = parseUpbitWebSocketFrame(Buffer.from(rawAt(text, "docs_example_simple_list")));
    expect(list).toHaveLength(1);
    const first = list[0]!;
    expect(first.kind === "orderbook" && first.orderbook).toMatchObject({ market: "KRW-BTC", level: 10000, timestampMs: 1751855921432 });
    expect(first.kind === "orderbook" && first.orderbook.streamType).toBeUndefined();
  });

  it("drops zero-padded slots and the depth suffix of the code", () => {
    const raw = rawAt(text, "docs_example_default")
      .replace('"code":"KRW-BTC"', '"code":"KRW-BTC.5"')
      .replace(
        ']',
        ',{"ask_price":137060000,"bid_price":0,"ask_size":0.1,"bid_size":0},{"ask_price":0,"bid_price":0,"ask_size":0,"bid_size":0}]',
      );
    const book = orderbookOf(raw);
    expect(book.market).toBe("KRW-BTC");
    expect(book.units.map((u) => u.askPrice)).toEqual([137002000, 137023000, 137050000, 137060000]);
    // A thin bid side under a real ask keeps the unit; its bid reads "no level".
    expect(book.units[3]).toEqual({ askPrice: 137060000, bidPrice: 0, askSize: 0.1, bidSize: 0 });
  });

  it("rejects a unit with a string price", () => {
    const raw = rawAt(text, "docs_example_default").replace('"ask_price":137002000', '"ask_price":"137002000"');
    expect(invalidOf(raw).field).toBe("ask_price");
  });
});

describe("candle frames (API.md §4.7)", () => {
  const raw =
    '{"type":"candle.1m","code":"KRW-BTC","candle_date_time_utc":"2025-01-02T03:04:00","candle_date_time_kst":"2025-01-02T12:04:00",' +
    '"opening_price":140000000,"high_price":140100000,"low_price":139900000,"trade_price":140050000,' +
    '"candle_acc_trade_volume":1.23456789,"candle_acc_trade_price":172839506.1,"timestamp":1735787070123,"stream_type":"REALTIME"}';

  it("parses DEFAULT and SIMPLE to the same update, bucket start as UTC ms", () => {
    const expected = {
      type: "candle.1m",
      market: "KRW-BTC",
      timeMs: Date.UTC(2025, 0, 2, 3, 4, 0),
      open: 140000000,
      high: 140100000,
      low: 139900000,
      close: 140050000,
      volume: 1.23456789,
      quoteVolume: 172839506.1,
      timestampMs: 1735787070123,
      streamType: "REALTIME",
    };
    for (const frame of [raw, toSimple(raw, CANDLE_KEYS)]) {
      const m = only(parseUpbitWebSocketFrame(Buffer.from(frame)));
      expect(m.kind === "candle" && m.candle).toStrictEqual(expected);
    }
  });

  it("rejects a zoned or impossible candle time", () => {
    expect(invalidOf(raw.replace("2025-01-02T03:04:00", "2025-01-02T03:04:00Z")).field).toBe("candle_date_time_utc");
    expect(invalidOf(raw.replace("2025-01-02T03:04:00", "2025-02-30T03:04:00")).field).toBe("candle_date_time_utc");
  });
});

describe("control frames (ws-control.json)", () => {
  const text = fixture("ws-control.json");

  it("reads the keep-alive reply as a status, not data", () => {
    expect(parseUpbitWebSocketFrame(Buffer.from(rawAt(text, "keepalive_reply_after_text_PING_every_10s")))).toEqual([
      { kind: "status", status: "UP" },
    ]);
  });

  it.each([
    [0, "NO_TICKET"],
    [1, "INVALID_PARAM"],
    [2, "WRONG_FORMAT"],
  ])("reads recorded error frame %i as Upbit error %s", (index, name) => {
    const m = only(parseUpbitWebSocketFrame(Buffer.from(rawAt(text, "recorded_error_frames_2026_09_23", index, "received"))));
    if (m.kind !== "error") throw new Error(`expected error, got ${m.kind}`);
    expect(m.error).toBeInstanceOf(UpbitWebSocketServerError);
    expect(m.error.upbitName).toBe(name);
    expect(m.error.upbitMessage.length).toBeGreaterThan(0);
  });

  it("reads the docs error example and a LIST_SUBSCRIPTIONS reply", () => {
    const e = only(parseUpbitWebSocketFrame(rawAt(text, "docs_error_example")));
    expect(e.kind === "error" && e.error.upbitName).toBe("INVALID_AUTH");
    expect(parseUpbitWebSocketFrame(rawAt(text, "docs_list_subscriptions_response"))).toEqual([
      {
        kind: "subscriptions",
        subscriptions: [
          { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] },
          { type: "orderbook", codes: ["KRW-BTC", "KRW-ETH"], level: 0 },
        ],
      },
    ]);
  });
});

describe("malformed frames", () => {
  it("turns bad UTF-8, non-JSON, non-objects and unknown types into typed errors", () => {
    expect(invalidOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])).problem).toMatch(/UTF-8/);
    expect(invalidOf("PONG").problem).toMatch(/not JSON/);
    expect(invalidOf(Buffer.from('{"sid":1')).problem).toMatch(/not JSON/);
    expect(invalidOf("42").problem).toMatch(/not a JSON object/);
    expect(invalidOf('{"type":"myOrder"}').field).toBe("type");
    expect(invalidOf('{"foo":1}').field).toBe("type");
  });

  it("accepts a Buffer[] and an ArrayBuffer as ws may deliver them", () => {
    const raw = '{"status":"UP"}';
    const bytes = Buffer.from(raw);
    expect(parseUpbitWebSocketFrame([bytes.subarray(0, 5), bytes.subarray(5)])).toEqual([{ kind: "status", status: "UP" }]);
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    expect(parseUpbitWebSocketFrame(ab)).toEqual([{ kind: "status", status: "UP" }]);
  });
});

const toNumbers = (v: unknown): unknown =>
  typeof v === "bigint"
    ? Number(v)
    : Array.isArray(v)
      ? v.map(toNumbers)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNumbers(x)]))
        : v;

const KINDS = ["ticker", "trade", "orderbook", "candle", "status", "subscriptions", "error", "invalid"];

function expectTyped(messages: UpbitWebSocketMessage[]): void {
  for (const m of messages) {
    expect(KINDS).toContain(m.kind);
    if (m.kind === "invalid") expect(m.error).toBeInstanceOf(UpbitWebSocketFrameError);
    if (m.kind === "error") expect(m.error).toBeInstanceOf(UpbitWebSocketServerError);
  }
}

describe("fuzz", () => {
  it("the exact JSON parser agrees with JSON.parse except for the precision of huge integers", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(toNumbers(parseJsonPreservingLargeIntegers(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it("the exact JSON parser rejects what JSON.parse rejects", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let native = true;
        try {
          JSON.parse(text);
        } catch {
          native = false;
        }
        let exact = true;
        try {
          parseJsonPreservingLargeIntegers(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SyntaxError);
          exact = false;
        }
        expect(exact).toBe(native);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps any 63-bit sequential_id exact in either format", () => {
    const template = rawAt(fixture("ws-trade.json"), "docs_example_default", 0);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.boolean(), (sid, simple) => {
        const raw = template.replace("17303368620470000", sid.toString());
        const m = only(parseUpbitWebSocketFrame(Buffer.from(simple ? toSimple(raw, TRADE_KEYS) : raw)));
        expect(m.kind === "trade" && m.trade.sequentialId).toBe(sid);
      }),
      { numRuns: 200 },
    );
  });

  it("any JSON value or any text gives typed messages, never a throw", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.uint8Array().map((b) => Buffer.from(b))), (frame) => {
        expectTyped(parseUpbitWebSocketFrame(frame));
      }),
      { numRuns: 500 },
    );
  });

  it("a ticker or trade with one field replaced by random JSON is still typed: parsed or rejected", () => {
    const tickerRaw = rawAt(fixture("ws-ticker.json"), "docs_example_default_2023");
    const tradeRaw = rawAt(fixture("ws-trade.json"), "docs_example_default", 0);
    const bases = [tickerRaw, toSimple(tickerRaw, TICKER_KEYS), tradeRaw, toSimple(tradeRaw, TRADE_KEYS)].map(
      (raw) => parseJsonPreservingLargeIntegers(raw) as Record<string, unknown>,
    );
    const stringify = (v: unknown) =>
      JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `#big${x}#` : x)).replace(/"#big(\d+)#"/g, "$1");
    fc.assert(
      fc.property(fc.nat(bases.length - 1), fc.nat(40), fc.jsonValue(), (b, keyIndex, replacement) => {
        const base = bases[b]!;
        const keys = Object.keys(base);
        const key = keys[keyIndex % keys.length]!;
        const messages = parseUpbitWebSocketFrame(stringify({ ...base, [key]: replacement }));
        expectTyped(messages);
        const m = only(messages);
        if (m.kind === "ticker") {
          for (const v of Object.values(m.ticker)) if (typeof v === "number") expect(Number.isFinite(v)).toBe(true);
          expect(m.ticker.market).toMatch(/^[^a-z]+$/);
        }
        if (m.kind === "trade") expect(typeof m.trade.sequentialId).toBe("bigint");
      }),
      { numRuns: 400 },
    );
  });
});
