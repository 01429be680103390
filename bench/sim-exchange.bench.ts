/**
 * How fast the simulator's synthetic exchange serves what clients ask most. Everything is
 * computed on demand from the seed, so this is what keeps the simulator usable. Each cold figure
 * is the best of three fresh exchanges; the baseline is the same page served again warm.
 */
import { performance } from "node:perf_hooks";
import type { SyntheticExchange } from "../src/upbit-sim/exchange-model.js";
import { buildMarketUniverse } from "../src/upbit-sim/market-universe.js";
import { createSyntheticExchange } from "../src/upbit-sim/synthetic-exchange.js";
import type { Metric } from "./storage.bench.js";

const NOW = Date.UTC(2026, 2, 11, 14, 40, 12, 345);
const DAY_MS = 86_400_000;
/** The bound for serving one page. */
const PAGE_TARGET_MS = 5;

function timed<T>(f: () => T): [T, number] {
  const start = performance.now();
  const result = f();
  return [result, performance.now() - start];
}

export async function runSimExchangeBench(log: (msg: string) => void = () => undefined): Promise<{ benchmark: string; metrics: Metric[] }> {
  const markets = buildMarketUniverse({ seed: 42, nowMs: NOW });
  const fresh = (): SyntheticExchange => createSyntheticExchange({ seed: 42, markets, now: () => NOW });
  const byRate = [...markets].sort((a, b) => b.tradesPerMinute - a.tradesPerMinute);
  const busiest = byRate[0]!;
  const quietest = byRate.filter((m) => m.quote === "KRW").at(-1)!;
  // Compile the hot paths on other markets and days first, so "cold" means cold caches only.
  const warmup = fresh();
  for (let i = 1; i <= 20; i++) {
    warmup.candles(byRate[1]!.code, "1m", NOW - i * DAY_MS, 200);
    warmup.ticker(byRate[1]!.code, NOW - i * DAY_MS);
  }
  for (const tf of ["1s", "60m", "1d", "1w", "1mo", "1y"] as const) {
    warmup.candles(byRate[1]!.code, tf, NOW - 400 * DAY_MS, 200);
    warmup.candles(byRate.at(-2)!.code, tf, NOW - 400 * DAY_MS, 200);
    warmup.candles(byRate.filter((m) => m.quote === "KRW").at(-2)!.code, tf, NOW - 400 * DAY_MS, 200);
  }

  const metrics: Metric[] = [];
  /** A cold page of up to `count` candles (a market's history may hold fewer: the name says how many came). */
  const page = (market: string, tf: Parameters<SyntheticExchange["candles"]>[1], count: number, target: number) => {
    log(`${tf} ${market}`);
    const runs = [0, 1, 2].map(() => {
      const ex = fresh();
      const [candles, cold] = timed(() => ex.candles(market, tf, NOW + 1, count));
      const [, warm] = timed(() => ex.candles(market, tf, NOW + 1, count));
      return { cold, warm, served: candles.length };
    });
    const cold = Math.min(...runs.map((r) => r.cold));
    const warm = Math.min(...runs.map((r) => r.warm));
    metrics.push({
      name: `cold ${runs[0]!.served} x ${tf}, ${market}`,
      unit: "ms",
      value: cold,
      baseline: warm,
      ratio: cold / warm,
      target: `< ${target} ms`,
      ok: cold < target,
    });
  };
  // The busiest market, the quietest KRW market and the quietest of all (a BTC-quoted pair).
  for (const market of new Set([busiest, quietest, byRate.at(-1)!])) {
    for (const tf of ["1s", "1m", "60m", "1d", "1w", "1mo", "1y"] as const) page(market.code, tf, 200, PAGE_TARGET_MS);
  }

  log("tickers");
  const ex = fresh();
  const [, tickersCold] = timed(() => markets.map((m) => ex.ticker(m.code, NOW)));
  const [, tickersWarm] = timed(() => markets.map((m) => ex.ticker(m.code, NOW)));
  metrics.push({ name: `tickers of ${markets.length} markets`, unit: "ms", value: tickersCold, baseline: tickersWarm, ratio: tickersCold / tickersWarm });
  const [trades, tradesMs] = timed(() => ex.trades(busiest.code, NOW - DAY_MS, NOW + 1));
  metrics.push({ name: `one day of trades, ${busiest.code} (${trades.length})`, unit: "ms", value: tradesMs });
  return { benchmark: "sim-exchange", metrics };
}
