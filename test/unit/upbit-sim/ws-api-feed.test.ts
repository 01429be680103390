import { afterEach, describe, expect, it } from "vitest";
import { storedAtMs } from "../../../src/upbit-sim/tick-storage-time.js";
import type { SimTrade } from "../../../src/upbit-sim/exchange-model.js";
import {
  createFakeExchange,
  FAKE_MARKETS,
  manualClock,
  obj,
  rawSequentialId,
  startHarness,
  T0,
  type FakeExchange,
  type ReceivedMessage,
  type WsHarness,
  type WsTestClient,
} from "./ws-test-support.js";
import { shapeOf, SIMPLE_TICKER_KEYS, SIMPLE_TRADE_KEYS, WS_TICKER_DEFAULT, WS_TRADE_DEFAULT } from "./ws-fixtures.js";

const CODES = FAKE_MARKETS.map((m) => m.code);
const harnesses: WsHarness[] = [];

async function setup(): Promise<{ clock: ReturnType<typeof manualClock>; ex: FakeExchange; client: WsTestClient }> {
  const clock = manualClock();
  const ex = createFakeExchange(clock.now);
  const h = await startHarness({ exchange: ex, now: clock.now });
  harnesses.push(h);
  return { clock, ex, client: await h.connect() };
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

/** Distinct trade times of `code` in (fromMs, toMs]: one ticker message each. */
function tradeTimes(ex: FakeExchange, code: string, fromMs: number, toMs: number): number[] {
  return [...new Set(ex.trades(code, fromMs + 1, toMs + 1).map((t) => t.timestampMs))];
}

/** What a DEFAULT ticker message must say about `code` as of trade time `atMs`. */
function expectedTicker(ex: FakeExchange, code: string, atMs: number, nowMs: number): Record<string, unknown> {
  const t = ex.ticker(code, atMs);
  if (!t) throw new Error(`no ticker for ${code}`);
  const signed = t.lastTrade.price - t.prevClosingPrice;
  return {
    type: "ticker",
    code,
    trade_price: t.lastTrade.price,
    trade_volume: t.lastTrade.volume,
    trade_timestamp: t.lastTrade.timestampMs,
    ask_bid: t.lastTrade.askBid,
    opening_price: t.today.open,
    high_price: t.today.high,
    low_price: t.today.low,
    acc_trade_price: t.today.quoteVolume,
    acc_trade_volume: t.today.volume,
    acc_trade_price_24h: t.accTradePrice24h,
    acc_trade_volume_24h: t.accTradeVolume24h,
    acc_ask_volume: t.accAskVolume,
    acc_bid_volume: t.accBidVolume,
    prev_closing_price: t.prevClosingPrice,
    change: signed > 0 ? "RISE" : signed < 0 ? "FALL" : "EVEN",
    market_warning: ex.market(code)?.warning ? "CAUTION" : "NONE",
    timestamp: storedAtMs(code, t.lastTrade.timestampMs, nowMs),
  };
}

function expectTradeMatches(m: ReceivedMessage, trade: SimTrade, ex: FakeExchange): void {
  const o = obj(m);
  const best = ex.orderbook(trade.market, trade.timestampMs, 1).units[0];
  expect(rawSequentialId(m.text)).toBe(trade.sequentialId);
  expect(o).toMatchObject({
    type: "trade",
    code: trade.market,
    trade_timestamp: trade.timestampMs,
    trade_price: trade.price,
    trade_volume: trade.volume,
    ask_bid: trade.askBid,
    prev_closing_price: ex.ticker(trade.market, trade.timestampMs)?.prevClosingPrice,
    best_ask_price: best?.askPrice,
    best_bid_size: best?.bidSize,
    trade_date: new Date(trade.timestampMs).toISOString().slice(0, 10),
    trade_time: new Date(trade.timestampMs).toISOString().slice(11, 19),
  });
}

describe("ticker", () => {
  it("sends a SNAPSHOT per code then one REALTIME per trade time, DEFAULT keys as the fixture", async () => {
    const { clock, ex, client } = await setup();
    client.send([{ ticket: "t" }, { type: "ticker", codes: CODES }, { format: "DEFAULT" }]);
    const snapshots = await client.take(CODES.length);
    expect(snapshots.map((m) => obj(m).code).sort()).toEqual([...CODES].sort());
    for (const m of snapshots) {
      const o = obj(m);
      expect(m.isBinary).toBe(true);
      expect(Object.keys(o)).toEqual(Object.keys(WS_TICKER_DEFAULT));
      expect(shapeOf(o)).toEqual(shapeOf(WS_TICKER_DEFAULT));
      expect(o).toMatchObject({ ...expectedTicker(ex, o.code as string, T0, T0), stream_type: "SNAPSHOT" });
    }

    clock.advance(2_000);
    const expected = CODES.map((code) => tradeTimes(ex, code, T0, T0 + 2_000));
    const total = expected.reduce((n, times) => n + times.length, 0);
    const live = await client.take(total);
    for (const [i, code] of CODES.entries()) {
      const mine = live.map(obj).filter((o) => o.code === code);
      expect(mine.map((o) => o.trade_timestamp)).toEqual(expected[i]);
      for (const o of mine) {
        expect(o).toMatchObject({ ...expectedTicker(ex, code, o.trade_timestamp as number, T0 + 2_000), stream_type: "REALTIME" });
      }
    }
    // Time order across markets.
    const times = live.map((m) => obj(m).trade_timestamp as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await client.drain()).toEqual([]);
  });

  it("uses the SIMPLE keys of API.md §4.4 with the same values", async () => {
    const { clock, ex, client } = await setup();
    client.send([{ ticket: "t" }, { type: "ticker", codes: CODES }, { format: "SIMPLE" }]);
    const snapshots = (await client.take(CODES.length)).map(obj);
    for (const o of snapshots) {
      expect(Object.keys(o).sort()).toEqual([...SIMPLE_TICKER_KEYS].sort());
      expect(o.st).toBe("SNAPSHOT");
      const e = expectedTicker(ex, o.cd as string, T0, T0);
      expect([o.tp, o.ttms, o.atp, o.pcp, o.c, o.tms]).toEqual([
        e.trade_price,
        e.trade_timestamp,
        e.acc_trade_price,
        e.prev_closing_price,
        e.change,
        e.timestamp,
      ]);
    }
    clock.advance(500);
    const next = obj(await client.next());
    expect(next.st).toBe("REALTIME");
    expect(next.ty).toBe("ticker");
  });

  it("is_only_realtime skips the snapshot; is_only_snapshot sends nothing after it", async () => {
    const { clock, ex, client } = await setup();
    client.send([
      { ticket: "t" },
      { type: "ticker", codes: ["KRW-BTC"], is_only_snapshot: true },
      { type: "ticker", codes: ["KRW-ETH"], is_only_realtime: true },
    ]);
    const snap = obj(await client.next());
    expect(snap).toMatchObject({ code: "KRW-BTC", stream_type: "SNAPSHOT" });
    clock.advance(1_000);
    const eth = tradeTimes(ex, "KRW-ETH", T0, T0 + 1_000);
    const live = (await client.take(eth.length)).map(obj);
    expect(live.map((o) => [o.code, o.stream_type, o.trade_timestamp])).toEqual(eth.map((t) => ["KRW-ETH", "REALTIME", t]));
    expect(await client.drain()).toEqual([]);
  });
});

describe("trade", () => {
  it("pushes every trade once, in order, with exact sequential ids matching exchange.trades()", async () => {
    const { clock, ex, client } = await setup();
    const codes = ["KRW-BTC", "KRW-ETH"];
    client.send([{ ticket: "t" }, { type: "trade", codes }]);
    const snapshots = await client.take(2);
    for (const m of snapshots) {
      const o = obj(m);
      expect(Object.keys(o)).toEqual(Object.keys(WS_TRADE_DEFAULT));
      expect(shapeOf(o)).toEqual(shapeOf(WS_TRADE_DEFAULT));
      expect(o.stream_type).toBe("SNAPSHOT");
      const last = ex.ticker(o.code as string, T0)?.lastTrade;
      if (!last) throw new Error("no last trade");
      expectTradeMatches(m, last, ex);
    }

    let from = T0;
    for (const step of [1_500, 700, 2_300]) {
      const to = clock.advance(step);
      const expected = codes.flatMap((c) => ex.trades(c, from + 1, to + 1));
      const got = await client.take(expected.length);
      for (const code of codes) {
        const mine = got.filter((m) => obj(m).code === code);
        const theirs = expected.filter((t) => t.market === code);
        expect(mine).toHaveLength(theirs.length);
        mine.forEach((m, i) => expectTradeMatches(m, theirs[i]!, ex));
        const ids = mine.map((m) => rawSequentialId(m.text));
        for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
      }
      expect(got.every((m) => obj(m).stream_type === "REALTIME")).toBe(true);
      from = to;
    }
    expect(await client.drain()).toEqual([]);
  });

  it("SIMPLE trade frames carry the abbreviated keys and the exact sid", async () => {
    const { ex, client } = await setup();
    client.send([{ ticket: "t" }, { type: "trade", codes: ["KRW-XRP"] }, { format: "SIMPLE" }]);
    const m = await client.next();
    expect(Object.keys(obj(m)).sort()).toEqual([...SIMPLE_TRADE_KEYS].sort());
    expect(rawSequentialId(m.text)).toBe(ex.ticker("KRW-XRP", T0)?.lastTrade.sequentialId);
    expect(obj(m).td).toBe("2026-03-11");
  });
});

describe("orderbook", () => {
  it("honours the .N depth suffix (unsupported N gives 30) and strips it from the code", async () => {
    const { ex, client } = await setup();
    client.send([{ ticket: "t" }, { type: "orderbook", codes: ["KRW-BTC.5", "KRW-ETH", "KRW-XRP.20", "KRW-BTC.1"] }]);
    const books = (await client.take(3)).map(obj);
    expect(books.map((b) => [b.code, (b.orderbook_units as unknown[]).length])).toEqual([
      ["KRW-BTC", 5],
      ["KRW-ETH", 30],
      ["KRW-XRP", 30],
    ]);
    const btc = ex.orderbook("KRW-BTC", T0, 5);
    expect(books[0]).toMatchObject({
      timestamp: btc.timestampMs,
      stream_type: "SNAPSHOT",
      level: 0,
      orderbook_units: btc.units.map((u) => ({ ask_price: u.askPrice, bid_price: u.bidPrice, ask_size: u.askSize, bid_size: u.bidSize })),
    });
  });

  it("sends a full book only when the book changed", async () => {
    const { clock, ex, client } = await setup();
    // The trade stream is the witness that a feed tick ran at the new clock time.
    client.send([
      { ticket: "t" },
      { type: "orderbook", codes: ["KRW-BTC.15"] },
      { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true },
    ]);
    expect(obj(await client.next()).stream_type).toBe("SNAPSHOT");
    clock.advance(50); // same 100 ms book, two trades at +7 ms
    const sameBook = [...(await client.until((m) => obj(m).type === "trade")), ...(await client.drain())];
    expect(sameBook.map((m) => obj(m).type)).toEqual(["trade", "trade"]);
    clock.advance(50); // the book changes at +100 ms
    const changed = await client.until((m) => obj(m).type === "orderbook");
    const book = obj(changed.at(-1)!);
    expect(book).toMatchObject({ stream_type: "REALTIME", timestamp: ex.orderbook("KRW-BTC", T0 + 100, 15).timestampMs });
    expect((book.orderbook_units as unknown[]).length).toBe(15);
  });

  it("aggregates a supported level and stays silent for an unsupported one", async () => {
    const { client } = await setup();
    client.send([
      { ticket: "t" },
      { type: "orderbook", codes: ["KRW-XRP"], level: 10000 },
      { type: "orderbook", codes: ["KRW-BTC.5"], level: 100000 },
    ]);
    const [m] = await client.take(1);
    const book = obj(m!);
    expect(book).toMatchObject({ code: "KRW-BTC", level: 100000 });
    for (const u of book.orderbook_units as { ask_price: number; bid_price: number }[]) {
      expect(u.ask_price % 100000).toBe(0);
      expect(u.bid_price % 100000).toBe(0);
    }
    expect(await client.drain()).toEqual([]);
  });
});

describe("candle", () => {
  it("snapshots the latest existing candle, then pushes at most once per second when it changed", async () => {
    const { clock, ex, client } = await setup();
    client.send([
      { ticket: "t" },
      { type: "candle.1m", codes: ["KRW-ETH"] },
      { type: "candle.1s", codes: ["KRW-BTC"] },
      { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true },
    ]);
    const snaps = (await client.take(2)).map(obj);
    // At T0 (00:02:00.000) the current minute has no trade yet: the snapshot is 00:01.
    expect(snaps[0]).toMatchObject({
      type: "candle.1m",
      code: "KRW-ETH",
      candle_date_time_utc: "2026-03-11T00:01:00",
      candle_date_time_kst: "2026-03-11T09:01:00",
      stream_type: "SNAPSHOT",
    });
    const eth = ex.candles("KRW-ETH", "1m", T0 + 1, 1)[0];
    expect(snaps[0]).toMatchObject({ opening_price: eth?.open, trade_price: eth?.close, candle_acc_trade_volume: eth?.volume });

    clock.advance(600); // trades, but less than a second since the snapshot
    await client.until((m) => obj(m).trade_timestamp === T0 + 407);
    expect((await client.drain()).filter((m) => String(obj(m).type).startsWith("candle"))).toEqual([]);

    clock.advance(400); // one second after the snapshot
    const burst = await client.until((m) => obj(m).type === "candle.1s");
    const candles = burst.map(obj).filter((o) => String(o.type).startsWith("candle"));
    const btc = ex.candles("KRW-BTC", "1s", T0 + 1_001, 1)[0];
    const eth2 = ex.candles("KRW-ETH", "1m", T0 + 1_001, 1)[0];
    expect(candles).toEqual([
      expect.objectContaining({
        type: "candle.1m",
        code: "KRW-ETH",
        candle_date_time_utc: "2026-03-11T00:02:00",
        high_price: eth2?.high,
        candle_acc_trade_price: eth2?.quoteVolume,
        stream_type: "REALTIME",
      }),
      // 00:02:01 has no trade yet at T0 + 1 s: the latest existing 1 s candle is 00:02:00.
      expect.objectContaining({
        type: "candle.1s",
        code: "KRW-BTC",
        candle_date_time_utc: "2026-03-11T00:02:00",
        trade_price: btc?.close,
        candle_acc_trade_volume: btc?.volume,
        stream_type: "REALTIME",
      }),
    ]);
  });
});

describe("subscription management", () => {
  it("a new request replaces the whole subscription", async () => {
    const { clock, ex, client } = await setup();
    client.send([{ ticket: "a" }, { type: "ticker", codes: ["KRW-BTC"] }]);
    expect(obj(await client.next()).type).toBe("ticker");
    client.send([{ ticket: "b" }, { type: "trade", codes: ["KRW-ETH"] }]);
    expect(obj(await client.next())).toMatchObject({ type: "trade", code: "KRW-ETH", stream_type: "SNAPSHOT" });
    clock.advance(1_000);
    const expected = ex.trades("KRW-ETH", T0 + 1, T0 + 1_001);
    const got = await client.take(expected.length);
    expect(got.map((m) => [obj(m).type, obj(m).code])).toEqual(expected.map(() => ["trade", "KRW-ETH"]));
    expect(await client.drain()).toEqual([]);
  });

  it("silently ignores lower-case and unknown codes", async () => {
    const { client } = await setup();
    client.send([{ ticket: "a" }, { type: "ticker", codes: ["krw-btc", "KRW-NOPE", "KRW-ETH"] }]);
    expect(obj(await client.next()).code).toBe("KRW-ETH");
    expect(await client.drain()).toEqual([]);
  });

  it("JSON_LIST and SIMPLE_LIST batch the objects of one push into an array", async () => {
    const { client } = await setup();
    client.send([{ ticket: "a" }, { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] }, { format: "JSON_LIST" }]);
    const list = (await client.next()).json as Record<string, unknown>[];
    expect(list.map((o) => [o.code, o.stream_type])).toEqual([
      ["KRW-BTC", "SNAPSHOT"],
      ["KRW-ETH", "SNAPSHOT"],
    ]);
    client.send([{ ticket: "b" }, { type: "ticker", codes: ["KRW-XRP"] }, { format: "SIMPLE_LIST" }]);
    expect((await client.next()).json).toEqual([expect.objectContaining({ ty: "ticker", cd: "KRW-XRP", st: "SNAPSHOT" })]);
  });
});
