/**
 * Bench-like bounds on the synthetic exchange: everything is computed on demand, so the simulator
 * is only usable if the common pages are cheap. Bounds are generous (a loaded 2-core CI machine);
 * the measured figures are printed for the record.
 */
import { describe, expect, it } from "vitest";
import type { SyntheticExchange } from "../../../src/upbit-sim/exchange-model.js";
import { buildMarketUniverse } from "../../../src/upbit-sim/market-universe.js";
import { createSyntheticExchange } from "../../../src/upbit-sim/synthetic-exchange.js";

const NOW = Date.UTC(2026, 2, 11, 14, 40, 12, 345);
const DAY_MS = 86_400_000;
const markets = buildMarketUniverse({ seed: 42, nowMs: NOW });
const fresh = (): SyntheticExchange => createSyntheticExchange({ seed: 42, markets, now: () => NOW });
const byRate = [...markets].sort((a, b) => b.tradesPerMinute - a.tradesPerMinute);
const LIQUID = byRate[0]!;
const SECOND = byRate[1]!;
const TAIL = byRate.filter((m) => m.quote === "KRW").at(-1)!;

function timed<T>(f: () => T): [T, number] {
  const start = performance.now();
  const result = f();
  return [result, performance.now() - start];
}

const figures: string[] = [];

describe("synthetic exchange speed", () => {
  // Compile the hot paths first (on another market and other days), so "cold" means cold caches.
  const warmup = fresh();
  for (let i = 1; i <= 20; i++) {
    warmup.candles(SECOND.code, "1m", NOW - i * DAY_MS, 200);
    warmup.candles(TAIL.code, "1s", NOW - i * DAY_MS, 200);
    warmup.ticker(SECOND.code, NOW - i * DAY_MS);
    warmup.orderbook(SECOND.code, NOW - i * DAY_MS, 30);
  }
  warmup.candles(SECOND.code, "1d", NOW - 400 * DAY_MS, 20);

  it("serves a cold 200-candle page of 1-minute candles of the busiest market in a few ms", () => {
    // Best of three fresh exchanges: other test files share the machine.
    const cold = [0, 1, 2].map(() => {
      const ex = fresh();
      const [page, pageMs] = timed(() => ex.candles(LIQUID.code, "1m", NOW + 1, 200));
      expect(page).toHaveLength(200);
      return pageMs;
    });
    const ms = Math.min(...cold);
    const ex = fresh();
    const [tailPage, tailMs] = timed(() => ex.candles(TAIL.code, "1m", NOW + 1, 200));
    expect(tailPage).toHaveLength(200);
    const [seconds, secondsMs] = timed(() => ex.candles(TAIL.code, "1s", NOW + 1, 200));
    expect(seconds).toHaveLength(200);
    figures.push(`1m page ${LIQUID.code} cold ${ms.toFixed(2)} ms (best of ${cold.map((c) => c.toFixed(2)).join(", ")}); tail ${TAIL.code} 1m ${tailMs.toFixed(2)} ms, 1s ${secondsMs.toFixed(2)} ms`);
    expect(ms).toBeLessThan(50);
    expect(tailMs).toBeLessThan(50);
    expect(secondsMs).toBeLessThan(50);
  });

  it("serves cold day, week and month pages of the busiest market from closed-form minute aggregates", () => {
    // A day is 1,440 closed-form minutes (not ~36k generated trades): ~0.1-0.5 ms, not ~2 ms.
    const cold = [0, 1].map(() => {
      const ex = fresh();
      const [page, pageMs] = timed(() => ex.candles(LIQUID.code, "1d", NOW + 1, 200));
      expect(page).toHaveLength(200);
      return { ex, page, pageMs };
    });
    const coldMs = Math.min(...cold.map((c) => c.pageMs));
    const { ex, page } = cold[0]!;
    const [again, warmMs] = timed(() => ex.candles(LIQUID.code, "1d", NOW + 1, 200));
    expect(again).toEqual(page);
    const [weeksOnTop, weeksOnTopMs] = timed(() => ex.candles(LIQUID.code, "1w", NOW + 1, 28));
    expect(weeksOnTop.length).toBeGreaterThan(20);
    const [weeks, weeksMs] = timed(() => fresh().candles(LIQUID.code, "1w", NOW + 1, 200));
    expect(weeks).toHaveLength(200);
    const [months, monthsMs] = timed(() => fresh().candles(LIQUID.code, "1mo", NOW + 1, 24));
    expect(months).toHaveLength(24);
    figures.push(
      `1d page ${LIQUID.code} cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(2)} ms; 28 weeks on top ${weeksOnTopMs.toFixed(1)} ms; ` +
        `cold 200 weeks ${weeksMs.toFixed(0)} ms, cold 24 months ${monthsMs.toFixed(0)} ms`,
    );
    // Per-trade generation took ~0.5 s for the days, ~3 s for the weeks and ~1.5 s for the months.
    expect(coldMs).toBeLessThan(300);
    expect(warmMs).toBeLessThan(50);
    expect(weeksOnTopMs).toBeLessThan(50);
    expect(weeksMs).toBeLessThan(2_000);
    expect(monthsMs).toBeLessThan(1_200);
  });

  it("serves the tickers of every market cold within seconds and warm within tens of ms", () => {
    const ex = fresh();
    const [, coldMs] = timed(() => markets.map((m) => ex.ticker(m.code, NOW)));
    const [, warmMs] = timed(() => markets.map((m) => ex.ticker(m.code, NOW)));
    figures.push(`tickers of ${markets.length} markets cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(1)} ms`);
    expect(coldMs).toBeLessThan(6_000);
    expect(warmMs).toBeLessThan(500);
  });

  it("serves a day of trades and order books of the busiest market quickly", () => {
    const ex = fresh();
    const [trades, tradesMs] = timed(() => ex.trades(LIQUID.code, NOW - DAY_MS, NOW + 1));
    expect(trades.length).toBeGreaterThan(10_000);
    const [, booksMs] = timed(() => {
      for (let i = 0; i < 100; i++) ex.orderbook(LIQUID.code, NOW - i * 100, 30);
    });
    figures.push(`day of trades ${LIQUID.code} (${trades.length}) ${tradesMs.toFixed(0)} ms; 100 order books ${booksMs.toFixed(1)} ms`);
    console.log(`synthetic exchange speed:\n  ${figures.join("\n  ")}`);
    expect(tradesMs).toBeLessThan(1_500);
    expect(booksMs).toBeLessThan(500);
  });
});
