/**
 * The simulator against recorded Upbit: for every recorded REST reply in the shared fixtures,
 * the simulator's reply to the same request has the same keys, key order, nesting and JSON types
 * (values differ), the same date/time string formats, the recorded error bodies and the recorded
 * header shape. Fixtures were re-serialised by Python, so numbers are compared by type only;
 * where the original byte length was kept, the number spelling is checked against it.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.js";
import { DAY_MS } from "../../src/shared/time.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import type { SimCandle, SimMarket, SimTrade, SyntheticExchange } from "../../src/upbit-sim/exchange-model.js";
import { type Simulator, createSimulator } from "../../src/upbit-sim/simulator.js";
import { FIXTURES_DIR } from "../support/fixtures.js";

const FIXTURES = `${FIXTURES_DIR}/`;
/** The recordings were made at 2026-03-11 14:40:59 UTC; serve the same moment. */
const RECORDED_AT = Date.UTC(2026, 2, 11, 14, 40, 59, 500);

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES}${name}`, "utf8")) as T;
}

interface RecordedHeaders {
  request: { method: string; uri: string };
  status: number;
  headers: Record<string, string | string[]>;
}
const recordedHeaders = fixture<Record<string, RecordedHeaders>>("rest-response-headers.json");
const RECORDED_REPLIES = Object.keys(recordedHeaders);

/** Path and query of the request a fixture file recorded. */
function recordedPath(file: string): string {
  const uri = new URL(recordedHeaders[file]!.request.uri);
  return `${uri.pathname}${uri.search}`;
}

/**
 * A JSON value's shape: types, keys in order, nesting. Strings made only of digits and date/time
 * punctuation are described by their format (`9999-99-99T99:99:99`), other strings by type.
 */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const elements = value.map((v) => JSON.stringify(shape(v)));
    return { array: [...new Set(elements)].map((e) => JSON.parse(e) as unknown) };
  }
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]);
  }
  if (typeof value === "string" && /^(?=.*\d)[\d:T -]+$/.test(value)) return `string ${value.replace(/\d/g, "9")}`;
  return typeof value;
}

const agent = new Agent({ connections: 4 });

async function get(base: string, path: string) {
  const res = await request(`${base}${path}`, { dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

describe("simulator vs recorded Upbit", () => {
  let sim: Simulator;
  let base: string;
  beforeAll(async () => {
    sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, rateLimit: 1_000 }, { now: () => RECORDED_AT, log: createLogger("upbit-sim-fidelity", "error") });
    ({ restUrl: base } = await sim.start());
  });
  afterAll(async () => {
    await sim.stop();
  });

  it.each(RECORDED_REPLIES)("%s: same keys, order, nesting, types and string formats", async (file) => {
    const recorded = fixture(file);
    const answer = await get(base, recordedPath(file));
    expect(answer.status).toBe(recordedHeaders[file]!.status);
    const ours = JSON.parse(answer.text) as unknown[];
    expect(ours.length).toBeGreaterThan(0);
    expect(shape(ours)).toEqual(shape(recorded));
  });

  it("ticker/all: every element shaped like the recorded KRW universe's", async () => {
    const recorded = fixture<unknown[]>("ticker-all-krw.json");
    const ours = JSON.parse((await get(base, "/v1/ticker/all?quote_currencies=KRW")).text) as unknown[];
    expect(ours.length).toBeGreaterThan(150);
    expect(shape(ours)).toEqual(shape(recorded));
  });

  it("market/all: the documented row shape", async () => {
    const recorded = fixture<Record<string, unknown[]>>("market-all.json").docs_tutorial_first_and_last_rows_no_details!;
    expect(shape(JSON.parse((await get(base, "/v1/market/all")).text))).toEqual(shape(recorded));
  });

  it("orderbook: as many units as recorded, with the recorded level", async () => {
    const [recorded] = fixture<Record<string, unknown>[]>("orderbook.json");
    const [ours] = JSON.parse((await get(base, recordedPath("orderbook.json"))).text) as Record<string, unknown>[];
    expect((ours!.orderbook_units as unknown[]).length).toBe((recorded!.orderbook_units as unknown[]).length);
    expect(ours!.level).toBe(recorded!.level);
  });

  it("the same headers, Remaining-Req group and sec after a first request", async () => {
    const limited = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0 }, { now: () => RECORDED_AT });
    try {
      const { restUrl } = await limited.start();
      for (const file of RECORDED_REPLIES) {
        const recorded = recordedHeaders[file]!.headers;
        await (await request(`${restUrl}/_sim/reset`, { method: "POST", body: "{}", dispatcher: agent })).body.text();
        const { headers } = await get(restUrl, recordedPath(file));
        const group = /^group=([a-z-]+); min=\d+; sec=\d+$/.exec(String(recorded["Remaining-Req"]))![1];
        expect(headers["remaining-req"], file).toBe(`group=${group}; min=600; sec=9`);
        for (const name of ["Limit-By-Ip", "Content-Type", "Cache-Control", "Pragma", "Expires"]) {
          expect(headers[name.toLowerCase()], `${file} ${name}`).toBe(recorded[name]);
        }
        expect(headers.etag).toMatch(/^W\/"0[0-9a-f]{32}"$/);
        expect(String(recorded.ETag)).toMatch(/^W\/"0[0-9a-f]{32}"$/);
      }
    } finally {
      await limited.stop();
    }
  });

  it("the recorded error replies, byte for byte", async () => {
    const rows = fixture<{ request: string; status: number; body: unknown; note?: string }[]>("errors.json");
    // The last row was recorded on Upbit Indonesia (an IDR market); Korea has no such market.
    for (const row of rows.filter((r) => !r.request.includes("Indonesia"))) {
      const path = row.request.replace(/^GET /, "");
      const answer = await get(base, path);
      expect(answer.status, path).toBe(row.status);
      expect(answer.text, path).toBe(JSON.stringify(row.body));
      if (row.note?.includes("no Remaining-Req")) expect(answer.headers["remaining-req"]).toBeUndefined();
      else expect(answer.headers["remaining-req"]).toMatch(/^group=(ticker|orderbook); min=600; sec=\d+$/);
    }
  });
});

describe("number spelling against recorded byte lengths", () => {
  // Serve the recorded values themselves: then a reply must be exactly as long as the recorded
  // one (Content-Length kept in rest-response-headers.json), which pins down Upbit's spelling
  // (`103460000.00000000`, rates with 10 digits, exact sequential_id) for candles and trades.
  type RecordedRow = Record<string, number | string>;
  const recordedCandle = (file: string): RecordedRow => fixture<RecordedRow[]>(file)[0]!;
  const day = recordedCandle("candles-days.json");
  const trade = fixture<RecordedRow[]>("trades-ticks.json")[0]!;
  // The simulator stamps a candle 1..40 ms after its last trade; any such stamp has 13 digits.
  const candleOf = (row: RecordedRow): SimCandle => ({
    timeMs: Date.parse(`${String(row.candle_date_time_utc)}Z`),
    open: row.opening_price as number,
    high: row.high_price as number,
    low: row.low_price as number,
    close: row.trade_price as number,
    volume: row.candle_acc_trade_volume as number,
    quoteVolume: row.candle_acc_trade_price as number,
    lastTradeMs: (row.timestamp as number) - 20,
    tradeCount: 1,
  });
  const timeframeFile: Record<string, string> = {
    "1s": "candles-seconds.json", "1m": "candles-minutes.json", "1d": "candles-days.json", "1w": "candles-weeks.json",
    "1mo": "candles-months.json", "1y": "candles-years.json",
  };
  const market: SimMarket = {
    code: "KRW-BTC", quote: "KRW", base: "BTC", koreanName: "비트코인", englishName: "Bitcoin", tradesPerMinute: 30,
    referencePrice: 1e8, tickSize: 1000, supportedLevels: ["0", "10000", "100000", "1000000", "10000000", "100000000"],
    listedAtMs: 0, warning: false,
    caution: {
      PRICE_FLUCTUATIONS: false, TRADING_VOLUME_SOARING: false, DEPOSIT_AMOUNT_SOARING: false,
      GLOBAL_PRICE_DIFFERENCES: false, CONCENTRATION_OF_SMALL_ACCOUNTS: false,
    },
  };
  const recordedTrade: SimTrade = {
    market: "KRW-BTC",
    timestampMs: trade.timestamp as number,
    price: trade.trade_price as number,
    volume: trade.trade_volume as number,
    askBid: trade.ask_bid as "ASK" | "BID",
    sequentialId: 17732400590950000n,
  };
  const previousDay = (toMs: number): SimCandle => ({ ...candleOf(day), timeMs: Date.parse("2026-03-10T00:00:00Z"), close: day.prev_closing_price as number, lastTradeMs: toMs - DAY_MS });
  const replay: SyntheticExchange = {
    markets: [market],
    market: (code) => (code === "KRW-BTC" ? market : undefined),
    candles(_code, tf, toMs) {
      const file = timeframeFile[tf];
      if (!file) return [];
      const c = candleOf(recordedCandle(file));
      if (tf === "1d" && toMs <= c.timeMs) return [previousDay(toMs)];
      return tf === "1d" ? [c, previousDay(toMs)] : [c];
    },
    trades: (_code, from, to) => (recordedTrade.timestampMs >= from && recordedTrade.timestampMs < to ? [recordedTrade] : []),
    ticker: () => undefined,
    orderbook: () => ({ market: "KRW-BTC", timestampMs: RECORDED_AT, units: [] }),
  };

  let sim: Simulator;
  let base: string;
  beforeAll(async () => {
    sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, rateLimit: 1_000 }, { now: () => RECORDED_AT, exchange: replay });
    ({ restUrl: base } = await sim.start());
  });
  afterAll(async () => {
    await sim.stop();
  });

  it.each([...Object.values(timeframeFile), "trades-ticks.json", "orderbook-instruments.json"])(
    "%s: the recorded values take exactly the recorded number of bytes",
    async (file) => {
      const recorded = recordedHeaders[file]!.headers;
      const answer = await get(base, recordedPath(file));
      expect(answer.status).toBe(200);
      expect(Buffer.byteLength(answer.text)).toBe(Number(recorded["content-length"] ?? recorded["Content-Length"]));
      expect(JSON.parse(answer.text)).toEqual(
        fixture<RecordedRow[]>(file).map((r) => ({ ...r, ...("timestamp" in r && file !== "trades-ticks.json" ? { timestamp: expect.any(Number) as number } : {}) })),
      );
    },
  );

  it("writes the raw 2023 minute candles' number spelling", async () => {
    const raw = readFileSync(`${FIXTURES}candles-minutes.raw-2023.json`, "utf8");
    const ours = (await get(base, recordedPath("candles-minutes.json"))).text;
    const spelling = (text: string) =>
      [...text.matchAll(/"([a-z_]+)":(-?[\d.]+)/g)].slice(0, 10).map(([, key, num]) => [key, num!.replace(/\d/g, "9").replace(/^9+/, "9")]);
    expect(spelling(ours)).toEqual(spelling(raw.split("\n")[0]!));
  });
});

afterAll(async () => {
  await agent.close();
});
