/**
 * A small deterministic `SyntheticExchange` for testing the REST front end on its own: trades on
 * a per-market grid with some skipped (so candles have gaps), candles aggregated from those
 * trades, a ticker and a book derived from them. Simple rather than realistic.
 */
import { DAY_MS, addBuckets, bucketStart } from "../../../src/shared/time.js";
import type { Timeframe } from "../../../src/shared/timeframe.js";
import type {
  SimCandle,
  SimMarket,
  SimOrderbook,
  SimOrderbookUnit,
  SimTicker,
  SimTrade,
  SyntheticExchange,
} from "../../../src/upbit-sim/exchange-model.js";

/** 2026-03-11 14:40:59.500 UTC, the moment the fixtures were recorded. */
export const FAKE_NOW = Date.UTC(2026, 2, 11, 14, 40, 59, 500);
const LISTED_AT = FAKE_NOW - 3 * DAY_MS - 3_600_000;

export interface FakeMarketSpec {
  readonly code: string;
  /** One grid slot every this many ms; every fourth slot has no trade. */
  readonly periodMs: number;
  readonly price: number;
  readonly tick: number;
  readonly levels?: readonly string[];
  /** Levels per side the book has (thin books are padded by the REST side). */
  readonly bookDepth?: number;
  readonly listedAtMs?: number;
}

export const FAKE_MARKETS: readonly FakeMarketSpec[] = [
  { code: "KRW-BTC", periodMs: 5_000, price: 100_000_000, tick: 1_000, levels: ["0", "10000", "100000", "1000000"] },
  { code: "KRW-ETH", periodMs: 7_000, price: 3_700_000, tick: 1_000, levels: ["0", "10000"] },
  { code: "KRW-QUIET", periodMs: 9 * 60_000, price: 123, tick: 1, bookDepth: 3 },
  { code: "BTC-ETH", periodMs: 11_000, price: 0.037, tick: 0.00000001 },
  { code: "USDT-BTC", periodMs: 13_000, price: 70_000, tick: 0.01 },
  { code: "KRW-NEW", periodMs: 5_000, price: 1_000, tick: 1, listedAtMs: FAKE_NOW + DAY_MS },
];

const round8 = (x: number): number => Number(x.toFixed(8));

function skipped(k: number): boolean {
  return (Math.imul(k, 2654435761) >>> 0) % 4 === 0;
}

export function createRestFakeExchange(now: () => number, specs: readonly FakeMarketSpec[] = FAKE_MARKETS): SyntheticExchange {
  const specByCode = new Map(specs.map((s) => [s.code, s]));
  const markets: SimMarket[] = specs.map((s, i) => ({
    code: s.code,
    quote: s.code.split("-")[0] as SimMarket["quote"],
    base: s.code.split("-")[1]!,
    koreanName: `코인${i}`,
    englishName: `Coin ${i}`,
    tradesPerMinute: (60_000 / s.periodMs) * 0.75,
    referencePrice: s.price,
    tickSize: s.tick,
    supportedLevels: s.levels ?? ["0"],
    listedAtMs: s.listedAtMs ?? LISTED_AT,
    warning: i === 2,
    caution: {
      PRICE_FLUCTUATIONS: i === 1,
      TRADING_VOLUME_SOARING: false,
      DEPOSIT_AMOUNT_SOARING: false,
      GLOBAL_PRICE_DIFFERENCES: false,
      CONCENTRATION_OF_SMALL_ACCOUNTS: false,
    },
  }));
  const marketByCode = new Map(markets.map((m) => [m.code, m]));

  const spec = (code: string): FakeMarketSpec => {
    const s = specByCode.get(code);
    if (!s) throw new Error(`fake exchange: unknown market ${code}`);
    return s;
  };
  const listedAt = (code: string): number => marketByCode.get(code)!.listedAtMs;

  function tradeAt(code: string, s: FakeMarketSpec, k: number): SimTrade {
    const t = listedAt(code) + k * s.periodMs + ((k * 37) % Math.floor(s.periodMs / 2));
    const wave = 1 + 0.02 * Math.sin(k / 97) + 0.005 * Math.sin(k / 7);
    const price = round8(Math.round((s.price * wave) / s.tick) * s.tick);
    return {
      market: code,
      timestampMs: t,
      price,
      volume: round8(0.001 * (1 + ((k * 7919) % 13))),
      askBid: k % 3 === 0 ? "ASK" : "BID",
      sequentialId: BigInt(t) * 10_000n,
    };
  }

  /** Every trade of a market up to a day past FAKE_NOW, generated once (the fake's clock never goes further). */
  const tape = new Map<string, SimTrade[]>();
  function tradeTape(code: string): SimTrade[] {
    let all = tape.get(code);
    if (!all) {
      const s = spec(code);
      all = [];
      for (let k = 0; ; k++) {
        const t = tradeAt(code, s, k);
        if (t.timestampMs > FAKE_NOW + DAY_MS) break;
        if (!skipped(k)) all.push(t);
      }
      tape.set(code, all);
    }
    return all;
  }

  /** Index of the first trade at or after `ms`. */
  function indexAt(all: readonly SimTrade[], ms: number): number {
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.timestampMs < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function trades(code: string, fromMs: number, toMs: number): SimTrade[] {
    const all = tradeTape(code);
    return all.slice(indexAt(all, fromMs), indexAt(all, Math.min(toMs, now() + 1)));
  }

  function candles(code: string, tf: Timeframe, toMs: number, count: number): SimCandle[] {
    const end = Math.min(toMs, now() + 1);
    if (end <= listedAt(code)) return [];
    const newest = bucketStart(tf, end - 1);
    const all = tradeTape(code);
    const out: SimCandle[] = [];
    let current: { -readonly [K in keyof SimCandle]: SimCandle[K] } | undefined;
    for (let i = indexAt(all, Math.min(now() + 1, addBuckets(tf, newest, 1))) - 1; i >= 0; i--) {
      const t = all[i]!;
      const b = bucketStart(tf, t.timestampMs);
      if (current?.timeMs !== b) {
        if (current) out.push({ ...current, volume: round8(current.volume), quoteVolume: round8(current.quoteVolume) });
        if (out.length >= count) return out;
        current = { timeMs: b, open: t.price, high: t.price, low: t.price, close: t.price, volume: 0, quoteVolume: 0, lastTradeMs: t.timestampMs, tradeCount: 0 };
      }
      current.open = t.price;
      current.high = Math.max(current.high, t.price);
      current.low = Math.min(current.low, t.price);
      current.volume += t.volume;
      current.quoteVolume += t.price * t.volume;
      current.tradeCount++;
    }
    if (current) out.push({ ...current, volume: round8(current.volume), quoteVolume: round8(current.quoteVolume) });
    return out;
  }

  function ticker(code: string, atMs: number): SimTicker | undefined {
    const recent = trades(code, Math.max(listedAt(code), atMs - DAY_MS), atMs + 1);
    const last = recent[recent.length - 1];
    if (!last) return undefined;
    const dayStart = bucketStart("1d", atMs);
    const todayCandle = candles(code, "1d", atMs + 1, 1)[0];
    const today: SimCandle =
      todayCandle?.timeMs === dayStart
        ? todayCandle
        : { timeMs: dayStart, open: last.price, high: last.price, low: last.price, close: last.price, volume: 0, quoteVolume: 0, lastTradeMs: last.timestampMs, tradeCount: 0 };
    const days = candles(code, "1d", atMs + 1, 400);
    const highest = days.reduce((a, b) => (b.high > a.high ? b : a));
    const lowest = days.reduce((a, b) => (b.low < a.low ? b : a));
    return {
      market: code,
      lastTrade: last,
      today,
      prevClosingPrice: candles(code, "1d", dayStart, 1)[0]?.close ?? today.open,
      accTradePrice24h: round8(recent.reduce((sum, t) => sum + t.price * t.volume, 0)),
      accTradeVolume24h: round8(recent.reduce((sum, t) => sum + t.volume, 0)),
      accAskVolume: 0,
      accBidVolume: 0,
      highest52WeekPrice: highest.high,
      highest52WeekDateMs: highest.timeMs,
      lowest52WeekPrice: lowest.low,
      lowest52WeekDateMs: lowest.timeMs,
    };
  }

  function orderbook(code: string, atMs: number, depth: number): SimOrderbook {
    const s = spec(code);
    const last = trades(code, Math.max(listedAt(code), atMs - DAY_MS), atMs + 1).at(-1);
    const mid = last?.price ?? s.price;
    const levels = Math.min(depth, s.bookDepth ?? 30);
    const units: SimOrderbookUnit[] = [];
    for (let i = 0; i < levels; i++) {
      units.push({
        askPrice: round8(mid + (i + 1) * s.tick),
        askSize: round8(0.01 * (1 + ((i * 31 + Math.floor(atMs / 1000)) % 17))),
        bidPrice: round8(mid - i * s.tick),
        bidSize: round8(0.02 * (1 + ((i * 17 + Math.floor(atMs / 1000)) % 11))),
      });
    }
    return { market: code, timestampMs: Math.floor(atMs / 100) * 100, units };
  }

  return {
    markets,
    market: (code) => marketByCode.get(code),
    candles,
    trades,
    ticker,
    orderbook,
  };
}
