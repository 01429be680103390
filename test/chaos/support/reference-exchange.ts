/**
 * What the simulator process serves, computed in the test process: its synthetic exchange is a
 * pure function of (seed, market, time), so an exchange built here with the same seed and market
 * universe answers the same for any past range. Checking answers against it costs the simulator
 * no requests, so the scenarios' own checks never touch the rate budget they are judging.
 */
import type { Candle, Ticker } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { spelledValue } from "../../../src/shared/decimal-text.js";
import { bucketCount, bucketStart } from "../../../src/shared/time.js";
import type { Timeframe } from "../../../src/shared/timeframe.js";
import type { SimCandle, SyntheticExchange } from "../../../src/upbit-sim/exchange-model.js";
import { buildMarketUniverse } from "../../../src/upbit-sim/market-universe.js";
import { createSyntheticExchange } from "../../../src/upbit-sim/synthetic-exchange.js";
import { AMOUNT_FRACTION_DIGITS } from "../../../src/upbit-sim/upbit-json.js";
import type { SimProcess } from "./chaos-processes.js";

const DAY_MS = 86_400_000;

/** A candle as numbers: time, open, high, low, close, volume, quote volume. */
export type CandleValues = readonly [number, number, number, number, number, number, number];

/**
 * The simulator's exchange, rebuilt here. The universe's listing dates are anchored to the UTC day
 * of "now", so `startedAtMs` (taken just before the simulator started) must fall on the same day.
 */
export function referenceExchange(sim: SimProcess, startedAtMs: number): SyntheticExchange {
  const now = Date.now();
  if (Math.floor(startedAtMs / DAY_MS) !== Math.floor(now / DAY_MS)) {
    throw new Error("the simulator started on the previous UTC day: its market universe may differ from a reference built now; run again");
  }
  return createSyntheticExchange({
    seed: sim.seed,
    markets: buildMarketUniverse({ seed: sim.seed, krwMarkets: sim.markets, nowMs: startedAtMs }),
    now: Date.now,
  });
}

/** The candles of `[start, end)` (closed buckets), as the simulator's REST API spells them (Upbit's 8 decimals). */
export function expectedCandles(exchange: SyntheticExchange, market: string, tf: Timeframe, start: number, end: number): CandleValues[] {
  const listed = exchange.market(market)?.listedAtMs ?? 0;
  const from = Math.max(start, bucketStart(tf, listed));
  if (from >= end) return [];
  const count = bucketCount(tf, from, end);
  return exchange
    .candles(market, tf, end, count)
    .filter((c) => c.timeMs >= from)
    .reverse()
    .map(spelled);
}

function spelled(c: SimCandle): CandleValues {
  const s = (n: number) => spelledValue(n, AMOUNT_FRACTION_DIGITS);
  return [c.timeMs, s(c.open), s(c.high), s(c.low), s(c.close), s(c.volume), s(c.quoteVolume)];
}

/** An answer's candles as numbers. */
export function candleValues(candles: readonly Candle[]): CandleValues[] {
  return candles.map((c) => [Number(c.timeMs), c.open, c.high, c.low, c.close, c.volume, c.quoteVolume]);
}

/** Stored rows as numbers. */
export function rowValues(rows: readonly { time: number; open: number; high: number; low: number; close: number; volume: number; quoteVolume: number }[]): CandleValues[] {
  return rows.map((r) => [r.time, r.open, r.high, r.low, r.close, r.volume, r.quoteVolume]);
}

/**
 * Where two candle lists differ, for a failure message; undefined when they are equal. Times must
 * match exactly, values to one unit of the 8th decimal (the simulator sums a live candle in
 * another order than a closed one, so the last digit may round either way; see
 * gateway-stream-candles.test.ts) or, for large turnovers, to 1e-12 relative.
 */
export function candleDifference(got: readonly CandleValues[], want: readonly CandleValues[]): string | undefined {
  const gotTimes = got.map((c) => c[0]);
  const wantTimes = want.map((c) => c[0]);
  if (got.length !== want.length || gotTimes.some((t, i) => t !== wantTimes[i])) {
    const wantSet = new Set(wantTimes);
    const gotSet = new Set(gotTimes);
    const extra = gotTimes.filter((t) => !wantSet.has(t)).slice(0, 3);
    const missing = wantTimes.filter((t) => !gotSet.has(t)).slice(0, 3);
    return `${got.length} candles, expected ${want.length} (extra ${extra.join(",") || "-"}, missing ${missing.join(",") || "-"})`;
  }
  const close = (g: number, w: number) => Math.abs(g - w) <= Math.max(1.01e-8, 1e-12 * Math.abs(w));
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!g.every((v, k) => close(v, w[k]!))) return `candle ${i} is [${g.join(", ")}], expected [${w.join(", ")}]`;
  }
  return undefined;
}

/** Whether the simulator made a trade at the ticker's last-trade time at the ticker's price. */
export function tickerIsReal(exchange: SyntheticExchange, ticker: Ticker): boolean {
  const t = Number(ticker.tradeTimeMs);
  return exchange.trades(ticker.market, t, t + 1).some((x) => x.price === ticker.tradePrice);
}
