import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketCount, bucketStart } from "../../../src/shared/time.js";
import type { Timeframe } from "../../../src/shared/timeframe.js";
import type { SimCandle, SimMarket, SimTrade, SyntheticExchange } from "../../../src/upbit-sim/exchange-model.js";
import { buildMarketUniverse } from "../../../src/upbit-sim/market-universe.js";
import { UnknownMarketError, createSyntheticExchange } from "../../../src/upbit-sim/synthetic-exchange.js";

const SEED = 42;
const NOW = Date.UTC(2026, 2, 11, 14, 40, 12, 345);
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const universe = buildMarketUniverse({ seed: SEED, nowMs: NOW });
/** A market far quieter than any in the universe: most days hold 0-5 trades. */
const RARE: SimMarket = { ...universe.find((m) => m.quote === "KRW" && NOW - m.listedAtMs > 3 * 365 * DAY_MS)!, code: "KRW-RARE", tradesPerMinute: 0.002 };
const markets = [...universe, RARE];
const exchangeAt = (nowMs: number, seed = SEED): SyntheticExchange =>
  createSyntheticExchange({ seed, markets, now: () => nowMs });

const established = universe.filter((m) => NOW - m.listedAtMs > 3 * 365 * DAY_MS);
const byRate = [...established].sort((a, b) => b.tradesPerMinute - a.tradesPerMinute);
const LIQUID = byRate[0]!;
const ILLIQUID = byRate.filter((m) => m.quote === "KRW").at(-1)!;
/** About one trade a minute: a year of its days is cheap to compute in a test. */
const MEDIUM = byRate.find((m) => m.tradesPerMinute < 1.2)!;
const RECENT = [...markets].sort((a, b) => b.listedAtMs - a.listedAtMs)[0]!;

/** Candles of `tf` starting in [fromMs, toMs), oldest first. */
function ascending(ex: SyntheticExchange, market: SimMarket, tf: Timeframe, fromMs: number, toMs: number): SimCandle[] {
  return ex
    .candles(market.code, tf, toMs, bucketCount(tf, bucketStart(tf, fromMs), toMs))
    .filter((c) => c.timeMs >= fromMs)
    .reverse();
}

/** Aggregates oldest-first candles (or trades as one-trade candles) into buckets of `tf`. */
function rollUp(items: readonly SimCandle[], tf: Timeframe): SimCandle[] {
  const out: SimCandle[] = [];
  for (const c of items) {
    const start = bucketStart(tf, c.timeMs);
    const last = out.at(-1);
    if (last === undefined || last.timeMs !== start) {
      out.push({ ...c, timeMs: start });
      continue;
    }
    out[out.length - 1] = {
      timeMs: start,
      open: last.open,
      high: Math.max(last.high, c.high),
      low: Math.min(last.low, c.low),
      close: c.close,
      volume: last.volume + c.volume,
      quoteVolume: last.quoteVolume + c.quoteVolume,
      lastTradeMs: c.lastTradeMs,
      tradeCount: last.tradeCount + c.tradeCount,
    };
  }
  return out;
}

function tradeAsCandle(t: SimTrade): SimCandle {
  return {
    timeMs: t.timestampMs,
    open: t.price,
    high: t.price,
    low: t.price,
    close: t.price,
    volume: t.volume,
    quoteVolume: t.price * t.volume,
    lastTradeMs: t.timestampMs,
    tradeCount: 1,
  };
}

function expectClose(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

/** OHLC, times and counts exactly equal; volumes within 1e-9 relative. */
function expectSameCandles(actual: readonly SimCandle[], expected: readonly SimCandle[], what: string): void {
  expect(actual.map((c) => c.timeMs), what).toEqual(expected.map((c) => c.timeMs));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const label = `${what} @ ${new Date(a.timeMs).toISOString()}`;
    expect([a.open, a.high, a.low, a.close, a.lastTradeMs, a.tradeCount], label).toEqual([
      e.open, e.high, e.low, e.close, e.lastTradeMs, e.tradeCount,
    ]);
    expectClose(a.volume, e.volume, `${label} volume`);
    expectClose(a.quoteVolume, e.quoteVolume, `${label} quoteVolume`);
  });
}

function onTick(price: number, tick: number): boolean {
  const units = price / tick;
  return Math.abs(units - Math.round(units)) < 1e-6;
}

describe("synthetic exchange", () => {
  it("picks test markets of the intended kinds", () => {
    expect(LIQUID.tradesPerMinute).toBeGreaterThan(20);
    expect(ILLIQUID.tradesPerMinute).toBeLessThan(0.2);
    expect(NOW - RECENT.listedAtMs).toBeLessThan(201 * DAY_MS);
  });

  it("is deterministic: same seed, same answers in any order; another seed differs", () => {
    const a = exchangeAt(NOW);
    const b = exchangeAt(NOW);
    const queries: Array<(ex: SyntheticExchange) => unknown> = [
      (ex) => ex.candles(LIQUID.code, "1m", NOW - 3 * DAY_MS, 50),
      (ex) => ex.candles(MEDIUM.code, "1d", NOW - 100 * DAY_MS, 30),
      (ex) => ex.candles(MEDIUM.code, "1w", NOW + 1, 10),
      (ex) => ex.candles(ILLIQUID.code, "240m", NOW - 400 * DAY_MS, 20),
      (ex) => ex.candles(LIQUID.code, "1s", NOW - 20 * DAY_MS, 100),
      (ex) => ex.trades(LIQUID.code, NOW - 500 * DAY_MS, NOW - 500 * DAY_MS + 5 * MINUTE_MS),
      (ex) => ex.ticker(MEDIUM.code, NOW),
      (ex) => ex.ticker(LIQUID.code, NOW - 30 * DAY_MS),
      (ex) => ex.orderbook(LIQUID.code, NOW - 10 * DAY_MS, 15),
      (ex) => ex.orderbook(ILLIQUID.code, NOW, 30),
    ];
    const fromA = queries.map((q) => q(a));
    const fromB = [...queries].reverse().map((q) => q(b)).reverse();
    expect(fromB).toEqual(fromA);
    expect(queries.map((q) => q(a))).toEqual(fromA);

    const c = exchangeAt(NOW, SEED + 1);
    expect(c.candles(LIQUID.code, "1m", NOW - 3 * DAY_MS, 50)).not.toEqual(fromA[0]);
    expect(c.trades(LIQUID.code, NOW - 500 * DAY_MS, NOW - 500 * DAY_MS + 5 * MINUTE_MS)).not.toEqual(fromA[5]);
  });

  it("builds minutes from seconds and higher minute units from minutes, exactly", () => {
    const ex = exchangeAt(NOW);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 * 365 * 24 }), (hoursAgo) => {
        // 1s -> 1m over 20 minutes of the busiest market.
        const end = bucketStart("60m", NOW - hoursAgo * HOUR_MS);
        const seconds = ascending(ex, LIQUID, "1s", end - 20 * MINUTE_MS, end);
        expectSameCandles(rollUp(seconds, "1m"), ascending(ex, LIQUID, "1m", end - 20 * MINUTE_MS, end), "1s->1m");
        // 1m -> 3m .. 240m over 8 hours aligned to 240 minutes.
        const to = bucketStart("240m", end);
        const minutes = ascending(ex, LIQUID, "1m", to - 8 * HOUR_MS, to);
        for (const tf of ["3m", "5m", "10m", "15m", "30m", "60m", "240m"] as const) {
          expectSameCandles(ascending(ex, LIQUID, tf, to - 8 * HOUR_MS, to), rollUp(minutes, tf), `1m->${tf}`);
        }
      }),
      { numRuns: 4, seed: 7 },
    );
  });

  it("makes day candles the aggregate of their minutes, for busy and quiet markets", () => {
    const ex = exchangeAt(NOW);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * 365 }), (daysAgo) => {
        const day = bucketStart("1d", NOW) - daysAgo * DAY_MS;
        for (const market of [LIQUID, MEDIUM, ILLIQUID]) {
          const minutes = ascending(ex, market, "1m", day, day + DAY_MS);
          expect(minutes.length).toBeGreaterThan(0);
          expectSameCandles(ascending(ex, market, "1d", day, day + DAY_MS), rollUp(minutes, "1d"), `1m->1d ${market.code}`);
        }
      }),
      { numRuns: 3, seed: 11, examples: [[0]] },
    );
  });

  it("makes weeks, months and years the aggregate of their days and months", () => {
    const ex = exchangeAt(NOW);
    const to = Date.UTC(2026, 0, 1);
    const days = ascending(ex, MEDIUM, "1d", Date.UTC(2025, 6, 1), to);
    expect(days.length).toBeGreaterThan(150);
    // Weeks wholly inside the window: Monday 2025-07-07 to Monday 2025-12-29.
    const weeksTo = Date.UTC(2025, 11, 29);
    const weeks = rollUp(days.filter((d) => d.timeMs < weeksTo), "1w").filter((w) => w.timeMs >= Date.UTC(2025, 6, 7));
    expectSameCandles(ascending(ex, MEDIUM, "1w", Date.UTC(2025, 6, 7), weeksTo), weeks, "1d->1w");
    expectSameCandles(ascending(ex, MEDIUM, "1mo", Date.UTC(2025, 6, 1), to), rollUp(days, "1mo"), "1d->1mo");
    const months = ascending(ex, ILLIQUID, "1mo", Date.UTC(2025, 0, 1), to);
    expect(months).toHaveLength(12);
    expectSameCandles(ascending(ex, ILLIQUID, "1y", Date.UTC(2025, 0, 1), to), rollUp(months, "1y"), "1mo->1y");
    // The forming year, up to now.
    const thisYear = ascending(ex, ILLIQUID, "1mo", Date.UTC(2026, 0, 1), NOW + 1);
    expectSameCandles(ex.candles(ILLIQUID.code, "1y", NOW + 1, 1), rollUp(thisYear, "1y"), "forming year");
  });

  it("aggregates trades into the 1m candles, with unique Upbit-shaped ids", () => {
    const ex = exchangeAt(NOW);
    for (const [market, from] of [
      [LIQUID, bucketStart("1m", NOW - 40 * DAY_MS)],
      [ILLIQUID, bucketStart("1m", NOW - 3 * DAY_MS)],
    ] as const) {
      const to = from + (market === LIQUID ? 15 * MINUTE_MS : DAY_MS);
      const trades = ex.trades(market.code, from, to);
      expect(trades.length).toBeGreaterThan(3);
      const ids = new Set(trades.map((t) => t.sequentialId));
      expect(ids.size).toBe(trades.length);
      let previous: SimTrade | undefined;
      for (const t of trades) {
        expect(t.market).toBe(market.code);
        expect(t.timestampMs).toBeGreaterThanOrEqual(from);
        expect(t.timestampMs).toBeLessThan(to);
        expect(t.sequentialId / 10000n).toBe(BigInt(t.timestampMs));
        expect(t.price).toBeGreaterThan(0);
        expect(t.volume).toBeGreaterThan(0);
        expect(onTick(t.price, market.tickSize)).toBe(true);
        if (previous !== undefined) {
          expect(t.timestampMs > previous.timestampMs || t.sequentialId > previous.sequentialId).toBe(true);
        }
        previous = t;
      }
      expectSameCandles(ascending(ex, market, "1m", from, to), rollUp(trades.map(tradeAsCandle), "1m"), `trades->1m ${market.code}`);
    }
  });

  it("makes every minute's candle exactly the aggregate of its trades, busy or sparse, in any quote", () => {
    const ex = exchangeAt(NOW);
    const busiest = (quote: SimMarket["quote"]): SimMarket =>
      [...established].filter((m) => m.quote === quote).sort((a, b) => b.tradesPerMinute - a.tradesPerMinute)[0]!;
    let busyMinutes = 0;
    let sparseMinutes = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * 365 * 24 * 60 }), (minutesAgo) => {
        const start = bucketStart("1m", NOW) - minutesAgo * MINUTE_MS;
        for (const market of [LIQUID, MEDIUM, ILLIQUID, busiest("BTC"), busiest("USDT")]) {
          const trades = ex.trades(market.code, start, start + MINUTE_MS);
          const [candle] = ex.candles(market.code, "1m", start + MINUTE_MS, 1).filter((c) => c.timeMs === start);
          if (trades.length === 0) {
            expect(candle, market.code).toBeUndefined();
            continue;
          }
          if (trades.length >= 6) busyMinutes++;
          else sparseMinutes++;
          expectSameCandles([candle!], rollUp(trades.map(tradeAsCandle), "1m"), `trades->1m ${market.code}`);
          for (const t of trades) {
            expect(onTick(t.price, market.tickSize), `${market.code} ${t.price}`).toBe(true);
            // At least Upbit's smallest printable size (sizes are fitted to the minute's volume and
            // turnover exactly, so they are not whole units of 1e-8).
            expect(t.volume).toBeGreaterThanOrEqual(1e-8);
          }
          expect(new Set(trades.map((t) => t.sequentialId)).size).toBe(trades.length);
        }
      }),
      { numRuns: 40, seed: 5 },
    );
    // Both kinds of minute were exercised.
    expect(busyMinutes).toBeGreaterThan(20);
    expect(sparseMinutes).toBeGreaterThan(5);
  });

  it("splits today's volume into taker sides exactly as the trades do", () => {
    const ex = exchangeAt(NOW);
    for (const market of [LIQUID, MEDIUM]) {
      const t = ex.ticker(market.code, NOW)!;
      const today = ex.trades(market.code, bucketStart("1d", NOW), NOW + 1);
      const sum = (side: SimTrade["askBid"]): number => today.filter((x) => x.askBid === side).reduce((s, x) => s + x.volume, 0);
      expectClose(t.accBidVolume, sum("BID"), `${market.code} bid volume`);
      expectClose(t.accAskVolume, sum("ASK"), `${market.code} ask volume`);
      expect(t.accBidVolume).toBeGreaterThan(0);
      expect(t.accAskVolume).toBeGreaterThan(0);
    }
  });

  it("trades realistic sizes around the reference price", () => {
    const ex = exchangeAt(NOW);
    const btc = markets.find((m) => m.code === "KRW-BTC")!;
    const trades = ex.trades(btc.code, NOW - HOUR_MS, NOW);
    expect(trades.length).toBeGreaterThan(200);
    const volumes = trades.map((t) => t.volume).sort((a, b) => a - b);
    const median = volumes[volumes.length >> 1]!;
    expect(median).toBeGreaterThan(0.0001);
    expect(median).toBeLessThan(0.5);
    for (const t of trades) {
      expect(t.price).toBeGreaterThan(btc.referencePrice / 10);
      expect(t.price).toBeLessThan(btc.referencePrice * 10);
    }
    expect(new Set(trades.map((t) => t.askBid))).toEqual(new Set(["ASK", "BID"]));
  });

  it("omits empty buckets on quiet markets and invents none", () => {
    const ex = exchangeAt(NOW);
    const page = ex.candles(ILLIQUID.code, "1m", NOW - 5 * DAY_MS, 100);
    expect(page).toHaveLength(100);
    const oldest = page.at(-1)!.timeMs;
    const newest = page[0]!.timeMs;
    // A quiet market: far more minutes than candles.
    expect((newest - oldest) / MINUTE_MS).toBeGreaterThan(300);
    const trades = ex.trades(ILLIQUID.code, oldest, newest + MINUTE_MS);
    const minutesWithTrades = [...new Set(trades.map((t) => bucketStart("1m", t.timestampMs)))].sort((a, b) => b - a);
    expect(page.map((c) => c.timeMs)).toEqual(minutesWithTrades);
    for (const c of page) expect(c.tradeCount).toBeGreaterThan(0);
    const hours = ex.candles(ILLIQUID.code, "60m", newest + MINUTE_MS, 1000).filter((c) => c.timeMs >= bucketStart("60m", oldest));
    const hoursWithTrades = [...new Set(trades.map((t) => bucketStart("60m", t.timestampMs)))].sort((a, b) => b - a);
    expect(hours.map((c) => c.timeMs)).toEqual(hoursWithTrades);
  });

  it("never shows trades after now, and shows the forming bucket so far", () => {
    const early = exchangeAt(NOW);
    const late = exchangeAt(NOW + 10 * MINUTE_MS);
    for (const tf of ["1s", "1m", "5m", "60m", "240m", "1d", "1w", "1mo", "1y"] as const) {
      const [forming] = early.candles(LIQUID.code, tf, NOW + 365 * DAY_MS, 1);
      expect(forming, tf).toBeDefined();
      expect(forming!.timeMs).toBe(bucketStart(tf, tf === "1s" ? forming!.lastTradeMs : NOW));
      expect(forming!.lastTradeMs).toBeLessThanOrEqual(NOW);
    }
    const minute = bucketStart("1m", NOW);
    const [partial] = early.candles(LIQUID.code, "1m", NOW + 1, 1);
    const [full] = late.candles(LIQUID.code, "1m", minute + MINUTE_MS, 1);
    expect(partial!.timeMs).toBe(minute);
    expect(full!.timeMs).toBe(minute);
    expect(full!.tradeCount).toBeGreaterThan(partial!.tradeCount);
    const soFar = late.trades(LIQUID.code, minute, NOW + 1);
    expectSameCandles([partial!], rollUp(soFar.map(tradeAsCandle), "1m"), "forming minute");
    expect(early.trades(LIQUID.code, NOW - MINUTE_MS, NOW + HOUR_MS).every((t) => t.timestampMs <= NOW)).toBe(true);
    expect(early.candles(LIQUID.code, "1m", NOW + DAY_MS, 5)).toEqual(early.candles(LIQUID.code, "1m", NOW + 1, 5));
  });

  it("sends a bucket's last live candle bit for bit as the closed candle served later", () => {
    for (const market of [LIQUID, MEDIUM]) {
      for (const tf of ["1m", "5m", "60m", "240m", "1d"] as const) {
        // The newest closed buckets with trades, each seen at its last trade and long after it
        // closed: sums in another order differ in the last bit for some buckets only.
        const closed = exchangeAt(NOW).candles(market.code, tf, bucketStart(tf, NOW), tf === "1m" ? 60 : 3);
        expect(closed.length, `${market.code} ${tf}`).toBeGreaterThan(0);
        for (const c of closed) {
          const [live] = exchangeAt(c.lastTradeMs).candles(market.code, tf, c.lastTradeMs + 1, 1);
          expect(live, `${market.code} ${tf} ${c.timeMs}`).toEqual(c);
        }
      }
    }
  });

  it("answers with a moving clock exactly as a fresh exchange at the later time", () => {
    let clock = NOW - 2 * HOUR_MS - 17_345;
    const moving = createSyntheticExchange({ seed: SEED, markets, now: () => clock });
    const ask = (ex: SyntheticExchange): unknown[] =>
      [LIQUID, MEDIUM].flatMap((m) => [
        ex.candles(m.code, "1d", clock + 1, 3),
        ex.candles(m.code, "60m", clock + 1, 5),
        ex.candles(m.code, "1m", clock + 1, 3),
        ex.ticker(m.code, clock),
        ex.orderbook(m.code, clock, 5),
      ]);
    for (let step = 0; step < 4; step++) {
      const before = ask(moving);
      expect(before).toEqual(ask(exchangeAt(clock)));
      clock += 47 * MINUTE_MS + 1_234;
    }
  });

  it("pages backwards by the oldest candle's time into contiguous, non-overlapping pages", () => {
    const ex = exchangeAt(NOW);
    const cases: Array<[SimMarket, Timeframe, number]> = [
      [LIQUID, "1m", NOW + 1],
      [LIQUID, "1s", NOW - 7 * DAY_MS],
      [ILLIQUID, "1m", NOW + 1],
      [ILLIQUID, "1s", NOW + 1],
      [MEDIUM, "15m", NOW - 30 * DAY_MS],
      [MEDIUM, "1d", NOW + 1],
      [RECENT, "1w", NOW + 1],
    ];
    for (const [market, tf, to] of cases) {
      const pages: SimCandle[][] = [];
      let cursor = to;
      for (let i = 0; i < 3; i++) {
        const page = ex.candles(market.code, tf, cursor, 40);
        pages.push(page);
        if (page.length === 0) break;
        cursor = page.at(-1)!.timeMs;
      }
      const joined = pages.flat();
      const times = joined.map((c) => c.timeMs);
      for (let i = 1; i < times.length; i++) expect(times[i]!, `${market.code} ${tf}`).toBeLessThan(times[i - 1]!);
      expect(joined).toEqual(ex.candles(market.code, tf, to, 120));
    }
  });

  it("respects the listing time: nothing before it, history starts there", () => {
    const ex = exchangeAt(NOW);
    const listed = RECENT.listedAtMs;
    expect(ex.ticker(RECENT.code, listed - 1)).toBeUndefined();
    expect(ex.candles(RECENT.code, "1m", bucketStart("1m", listed), 10)).toEqual([]);
    expect(ex.trades(RECENT.code, listed - DAY_MS, listed)).toEqual([]);
    const days = ex.candles(RECENT.code, "1d", NOW + 1, 1000);
    expect(days.length).toBeGreaterThan(10);
    expect(days.length).toBeLessThan(202);
    expect(days.at(-1)!.timeMs).toBe(bucketStart("1d", listed));
    const months = ex.candles(RECENT.code, "1mo", NOW + 1, 200);
    expect(months.at(-1)!.timeMs).toBe(bucketStart("1mo", listed));
    // Whole minutes: a candle covers its whole bucket.
    const twelveHoursIn = bucketStart("1m", listed + 12 * HOUR_MS);
    const early = ex.trades(RECENT.code, listed - HOUR_MS, twelveHoursIn);
    expect(early.length).toBeGreaterThan(0);
    expect(early[0]!.timestampMs).toBeGreaterThanOrEqual(listed);
    const firstMinutes = ascending(ex, RECENT, "1m", bucketStart("1m", listed), twelveHoursIn);
    expectSameCandles(firstMinutes, rollUp(early.map(tradeAsCandle), "1m"), "first minutes");
    expect(ex.candles(RECENT.code, "1y", NOW + 1, 10).at(-1)!.open).toBe(early[0]!.price);
  });

  it("gives tickers consistent with the day candles and the last trade", () => {
    const ex = exchangeAt(NOW);
    for (const market of [LIQUID, ILLIQUID]) {
      const t = ex.ticker(market.code, NOW)!;
      const dayStart = bucketStart("1d", NOW);
      expect(t.market).toBe(market.code);
      expect(t.today).toEqual(ex.candles(market.code, "1d", NOW + 1, 1)[0]);
      expect(t.lastTrade.timestampMs).toBeLessThanOrEqual(NOW);
      expect(ex.trades(market.code, t.lastTrade.timestampMs + 1, NOW + 1)).toEqual([]);
      expect(ex.trades(market.code, t.lastTrade.timestampMs, t.lastTrade.timestampMs + 1).at(-1)).toEqual(t.lastTrade);
      expect(t.prevClosingPrice).toBe(ex.candles(market.code, "1d", dayStart, 1)[0]!.close);
      expectClose(t.accAskVolume + t.accBidVolume, t.today.volume, "ask + bid volume");
      const day = ex.trades(market.code, NOW - DAY_MS + 1, NOW + 1);
      expectClose(t.accTradeVolume24h, day.reduce((s, x) => s + x.volume, 0), "24h volume");
      expectClose(t.accTradePrice24h, day.reduce((s, x) => s + x.price * x.volume, 0), "24h turnover");
      // The 52-week extremes are real day highs and lows, bracketing today's.
      expect(t.highest52WeekPrice).toBeGreaterThanOrEqual(t.today.high);
      expect(t.lowest52WeekPrice).toBeLessThanOrEqual(t.today.low);
      const [highDay] = ex.candles(market.code, "1d", t.highest52WeekDateMs + DAY_MS, 1);
      const [lowDay] = ex.candles(market.code, "1d", t.lowest52WeekDateMs + DAY_MS, 1);
      expect([highDay!.timeMs, highDay!.high]).toEqual([t.highest52WeekDateMs, t.highest52WeekPrice]);
      expect([lowDay!.timeMs, lowDay!.low]).toEqual([t.lowest52WeekDateMs, t.lowest52WeekPrice]);
    }
    // A ticker in the past sees only that past.
    const past = NOW - 45 * DAY_MS - 5 * HOUR_MS;
    const old = ex.ticker(LIQUID.code, past)!;
    expect(old.lastTrade.timestampMs).toBeLessThanOrEqual(past);
    expect(old.today.lastTradeMs).toBeLessThanOrEqual(past);
    expectSameCandles([old.today], rollUp(ex.trades(LIQUID.code, bucketStart("1d", past), past + 1).map(tradeAsCandle), "1d"), "past today");
  });

  it("finds the exact 52-week high and low, with the same answer whether days are cached or not", () => {
    const fresh = exchangeAt(NOW).ticker(MEDIUM.code, NOW)!;
    const ex = exchangeAt(NOW);
    const windowStart = bucketStart("1d", NOW) - 363 * DAY_MS;
    const days = ex.candles(MEDIUM.code, "1d", NOW + 1, 400).filter((c) => c.timeMs >= windowStart);
    expect(days.length).toBeGreaterThan(300);
    const high = Math.max(...days.map((d) => d.high));
    const low = Math.min(...days.map((d) => d.low));
    // Ties go to the latest day.
    const highDay = days.find((d) => d.high === high)!.timeMs;
    const lowDay = days.find((d) => d.low === low)!.timeMs;
    expect([fresh.highest52WeekPrice, fresh.highest52WeekDateMs, fresh.lowest52WeekPrice, fresh.lowest52WeekDateMs]).toEqual([
      high, highDay, low, lowDay,
    ]);
    expect(ex.ticker(MEDIUM.code, NOW)).toEqual(fresh);
  });

  it("keeps order books sorted, on the tick, around the last trade", () => {
    const ex = exchangeAt(NOW);
    const btcQuoted = markets.find((m) => m.quote === "BTC")!;
    const usdtQuoted = markets.find((m) => m.quote === "USDT")!;
    for (const market of [LIQUID, ILLIQUID, MEDIUM, btcQuoted, usdtQuoted]) {
      for (const depth of [1, 15, 30]) {
        const at = NOW - depth * 1234;
        const book = ex.orderbook(market.code, at, depth);
        expect(book.market).toBe(market.code);
        expect(book.units).toHaveLength(depth);
        expect(book.timestampMs).toBeLessThanOrEqual(at);
        const last = ex.ticker(market.code, at)!.lastTrade;
        expect(book.timestampMs).toBeGreaterThanOrEqual(last.timestampMs);
        const best = book.units[0]!;
        expect(best.bidPrice).toBeLessThan(best.askPrice);
        expect(best.bidPrice <= last.price && last.price <= best.askPrice).toBe(true);
        book.units.forEach((u, i) => {
          for (const p of [u.askPrice, u.bidPrice]) expect(onTick(p, market.tickSize), `${market.code} ${p}`).toBe(true);
          expect(u.askSize).toBeGreaterThan(0);
          expect(u.bidSize).toBeGreaterThan(0);
          expect(u.bidPrice).toBeGreaterThan(0);
          if (i > 0) {
            expect(u.askPrice).toBeGreaterThan(book.units[i - 1]!.askPrice);
            expect(u.bidPrice).toBeLessThan(book.units[i - 1]!.bidPrice);
          }
        });
        // The book as of its last change is the same book.
        expect(ex.orderbook(market.code, book.timestampMs, depth)).toEqual(book);
      }
    }
    expect(ex.orderbook(LIQUID.code, NOW + HOUR_MS, 5)).toEqual(ex.orderbook(LIQUID.code, NOW, 5));
  });

  it("changes busy books on a ~100 ms grid and quiet books rarely", () => {
    const ex = exchangeAt(NOW);
    const distinct = (market: SimMarket): number => {
      const stamps = new Set<number>();
      for (let t = NOW - MINUTE_MS; t < NOW; t += 100) stamps.add(ex.orderbook(market.code, t, 5).timestampMs);
      return stamps.size;
    };
    expect(distinct(LIQUID)).toBeGreaterThan(300);
    expect(distinct(ILLIQUID)).toBeLessThan(10);
  });

  it("keeps days with one to three trades consistent with their hours, minutes and trades", () => {
    const ex = exchangeAt(NOW);
    const days = ex.candles(RARE.code, "1d", NOW + 1, 400);
    const few = days.filter((d) => d.tradeCount <= 3 && d.timeMs + DAY_MS <= NOW);
    // Quiet enough to have days without any trade, and many with one, two or three.
    expect((days[0]!.timeMs - days.at(-1)!.timeMs) / DAY_MS + 1).toBeGreaterThan(days.length + 10);
    for (const n of [1, 2, 3]) expect(few.filter((d) => d.tradeCount === n).length, `days with ${n} trades`).toBeGreaterThan(3);
    for (const day of few) {
      const label = `${RARE.code} ${new Date(day.timeMs).toISOString()}`;
      const trades = ex.trades(RARE.code, day.timeMs, day.timeMs + DAY_MS);
      const minutes = ascending(ex, RARE, "1m", day.timeMs, day.timeMs + DAY_MS);
      const hours = ascending(ex, RARE, "60m", day.timeMs, day.timeMs + DAY_MS);
      expectSameCandles(minutes, rollUp(trades.map(tradeAsCandle), "1m"), `trades->1m ${label}`);
      expectSameCandles(hours, rollUp(minutes, "60m"), `1m->60m ${label}`);
      expectSameCandles([day], rollUp(hours, "1d"), `60m->1d ${label}`);
      // What n trades can show: one trade is flat; two show nothing beyond their open and close.
      if (day.tradeCount === 1) expect([day.high, day.low, day.close], label).toEqual([day.open, day.open, day.open]);
      if (day.tradeCount === 2) {
        expect(day.high, label).toBe(Math.max(day.open, day.close));
        expect(day.low, label).toBe(Math.min(day.open, day.close));
      }
    }
  });

  it("makes weeks, months and years of the busiest market the aggregate of its days", () => {
    const ex = exchangeAt(NOW);
    const days = ascending(ex, LIQUID, "1d", Date.UTC(2024, 0, 1), NOW + 1);
    const weeksFrom = Date.UTC(2024, 0, 1); // a Monday
    expectSameCandles(ascending(ex, LIQUID, "1w", weeksFrom, NOW + 1), rollUp(days, "1w"), "1d->1w");
    expectSameCandles(ascending(ex, LIQUID, "1mo", weeksFrom, NOW + 1), rollUp(days, "1mo"), "1d->1mo");
    expectSameCandles(ascending(ex, LIQUID, "1y", weeksFrom, NOW + 1), rollUp(days, "1y"), "1d->1y");
  });

  it("aggregates exactly at every level, for any market, day and timeframe (fuzz)", () => {
    const ex = exchangeAt(NOW);
    const whole = (v: number): boolean => Number(v.toFixed(8)) === v;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: markets.length - 1 }),
        fc.integer({ min: 0, max: 3 * 365 }),
        fc.constantFrom<Timeframe>("3m", "10m", "30m", "240m"),
        fc.integer({ min: 0, max: 23 }),
        (index, daysAgo, tf, hourOfDay) => {
          const market = markets[index]!;
          const day = Math.max(bucketStart("1d", NOW) - daysAgo * DAY_MS, bucketStart("1d", market.listedAtMs));
          const dayEnd = Math.min(day + DAY_MS, NOW + 1);
          const label = `${market.code} ${new Date(day).toISOString()}`;
          const minutes = ascending(ex, market, "1m", day, dayEnd);
          const hours = ascending(ex, market, "60m", day, dayEnd);
          expectSameCandles(hours, rollUp(minutes, "60m"), `1m->60m ${label}`);
          expectSameCandles(ascending(ex, market, tf, day, dayEnd), rollUp(minutes, tf), `1m->${tf} ${label}`);
          expectSameCandles(ascending(ex, market, "1d", day, dayEnd), rollUp(hours, "1d"), `60m->1d ${label}`);
          // Trades build the minutes of one hour.
          const hour = day + hourOfDay * HOUR_MS;
          if (hour < NOW) {
            const trades = ex.trades(market.code, hour, hour + HOUR_MS);
            const hourMinutes = minutes.filter((c) => c.timeMs >= hour && c.timeMs < hour + HOUR_MS);
            expectSameCandles(hourMinutes, rollUp(trades.map(tradeAsCandle), "1m"), `trades->1m ${label}`);
          }
          // Days build the week and the month around this day.
          for (const big of ["1w", "1mo"] as const) {
            const start = Math.max(bucketStart(big, day), bucketStart("1d", market.listedAtMs));
            const end = Math.min(bucketStart(big, day) + 40 * DAY_MS, NOW + 1);
            const days = ascending(ex, market, "1d", start, end);
            const [bucket] = ascending(ex, market, big, bucketStart(big, day), end);
            if (bucket !== undefined) expectSameCandles([bucket], rollUp(days, big).slice(0, 1), `1d->${big} ${label}`);
          }
          // Whole buckets (not cut by the listing or by now) have whole units of 1e-8: they print
          // exactly with Upbit's 8 decimals.
          const uncut = (c: SimCandle, length: number): boolean => c.timeMs >= market.listedAtMs && c.timeMs + length <= NOW;
          for (const c of [...minutes.filter((m) => uncut(m, MINUTE_MS)), ...hours.filter((h) => uncut(h, HOUR_MS))]) {
            expect(whole(c.volume), `${label} ${c.volume}`).toBe(true);
          }
        },
      ),
      { numRuns: 40, seed: 13 },
    );
  });

  it("rejects unknown markets", () => {
    const ex = exchangeAt(NOW);
    expect(ex.market("KRW-NOPE")).toBeUndefined();
    expect(ex.market(LIQUID.code)).toBe(LIQUID);
    expect(() => ex.candles("KRW-NOPE", "1m", NOW, 1)).toThrow(UnknownMarketError);
    expect(() => ex.trades("KRW-NOPE", 0, NOW)).toThrow(UnknownMarketError);
    expect(() => ex.ticker("KRW-NOPE", NOW)).toThrow(UnknownMarketError);
    expect(() => ex.orderbook("KRW-NOPE", NOW, 1)).toThrow(UnknownMarketError);
  });
});
