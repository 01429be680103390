/**
 * The deterministic synthetic exchange: every trade, candle, ticker and order book is a pure
 * function of (seed, market, time), computed on demand; nothing is stored but bounded caches.
 *
 * The model is top-down, so any candle costs O(1) per day it spans:
 * - A day (market-model.ts) is drawn whole, in O(1): a Poisson trade count at the market's rate
 *   times a slowly varying activity (so illiquid markets have quiet days, and days without a
 *   trade); open and close near a reference path (multi-octave hashed value noise over days, a
 *   random walk at every scale that stays around the market's reference price) at the day's two
 *   boundaries; high and low beyond them; volume and VWAP.
 * - A day splits into 24 hours and an hour into 60 minutes (bar-split.ts), from PRNGs seeded by
 *   hash(market, bucket): trade counts by time-of-day and burst weights (exact sum), prices from
 *   a bridge of the parent's path from open to close within its high and low, with the parent's
 *   open, close, high and low carried by the children that hold their trades, and volumes and
 *   VWAPs reweighted so the children's volume and turnover sum to the parent's. Candle volumes
 *   are whole units of 1e-8, so they print exactly in Upbit's 8 decimals and sum exactly.
 * - A minute's trades are laid out from its bar (minute-trades.ts): they aggregate back to it
 *   (their sizes are fitted to the minute's volume and turnover, so they are not whole units).
 * - Weeks, months and years aggregate days; a bucket cut by the listing time or by now
 *   aggregates its whole hours and minutes and the trades of the cut minute (bar-hierarchy.ts).
 *
 * So a higher timeframe is exactly the aggregate of the lower ones (prices, counts and last-trade
 * times exactly, turnover to float rounding, ~1e-14), trades build the minutes, and tickers are
 * sums of the same pieces. Only today's taker split needs every trade of today laid out (cached
 * per hour); the 52-week range scans 364 day bars.
 */
import { bucketIndex, bucketTimeOfIndex } from "../shared/time.js";
import type { Timeframe } from "../shared/timeframe.js";
import { Accumulator, BarHierarchy, type HourEntry, LruCache } from "./bar-hierarchy.js";
import { Bar } from "./bar-split.js";
import type {
  SimCandle,
  SimMarket,
  SimOrderbook,
  SimOrderbookUnit,
  SimTicker,
  SimTrade,
  SyntheticExchange,
} from "./exchange-model.js";
import { MarketModel } from "./market-model.js";
import { type MinuteTrades, SIDE_BID } from "./minute-trades.js";
import { Rng, SIZE_FACTORS, SIZE_TABLE_MASK } from "./sim-random.js";

export interface SyntheticExchangeOptions {
  /** Seed of the whole exchange: same seed, same trades. */
  seed: number;
  /** The markets to simulate (see `buildMarketUniverse`). */
  markets: readonly SimMarket[];
  /** Clock, UTC ms: only trades at or before `now()` exist. */
  now: () => number;
}

/** A market code the exchange does not list. */
export class UnknownMarketError extends Error {
  override readonly name = "UnknownMarketError";
  constructor(readonly code: string) {
    super(`unknown market ${code}`);
  }
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** 52 weeks of UTC days, today included. */
const DAYS_52_WEEKS = 364;
/** 52-week extremes of the days before a given day, per market. */
const EXTREMES_CACHE_MAX_ENTRIES = 20_000;

/** Order books change on this grid for busy markets (Upbit publishes every ~100 ms)... */
const BOOK_GRID_MS = 100;
/** ...and this much less often per halving of liquidity below 10 trades/min, up to once a minute. */
const BOOK_BUSY_TRADES_PER_MINUTE = 10;
const BOOK_MAX_GRID_MS = 60_000;
const MAX_BOOK_DEPTH = 30;
/** Volumes are kept in units of Upbit's 8 decimals; order book sizes are rounded to them. */
const VOLUME_UNITS_PER_BASE = 1e8;
const MIN_VOLUME = 1e-8;

interface Extremes {
  readonly high: number;
  readonly highDay: number;
  readonly low: number;
  readonly lowDay: number;
}

class Exchange implements SyntheticExchange {
  readonly markets: readonly SimMarket[];
  private readonly models = new Map<string, MarketModel>();
  private readonly now: () => number;
  private readonly bars = new BarHierarchy();
  private readonly extremesCache = new LruCache<Extremes | null>(EXTREMES_CACHE_MAX_ENTRIES);
  private readonly acc = new Accumulator();
  private readonly scratchBar = new Bar();
  private readonly bookRng = new Rng();

  constructor(options: SyntheticExchangeOptions) {
    this.markets = options.markets;
    this.now = options.now;
    options.markets.forEach((market, ordinal) => {
      this.models.set(market.code, new MarketModel(market, ordinal, options.seed));
    });
  }

  market(code: string): SimMarket | undefined {
    return this.models.get(code)?.market;
  }

  private model(code: string): MarketModel {
    const model = this.models.get(code);
    if (model === undefined) throw new UnknownMarketError(code);
    return model;
  }

  // -------------------------------------------------------------------------------------------
  // Candles

  candles(code: string, tf: Timeframe, toMs: number, count: number): SimCandle[] {
    const model = this.model(code);
    const nowMs = this.now();
    const listedAtMs = model.market.listedAtMs;
    const latest = Math.min(toMs - 1, nowMs);
    if (count <= 0 || latest < listedAtMs) return [];
    if (tf === "1s") return this.secondCandles(model, latest, nowMs, count);
    if (tf === "1m") return this.minuteCandles(model, latest, nowMs, count);
    const out: SimCandle[] = [];
    const acc = this.acc;
    const first = bucketIndex(tf, listedAtMs);
    for (let index = bucketIndex(tf, latest); index >= first && out.length < count; index--) {
      const start = bucketTimeOfIndex(tf, index);
      const end = Math.min(bucketTimeOfIndex(tf, index + 1), nowMs + 1);
      this.bars.addRange(model, Math.max(start, listedAtMs), end, acc.reset());
      if (acc.count > 0) out.push(this.candleOf(model, acc, start));
    }
    return out;
  }

  private candleOf(model: MarketModel, acc: Accumulator, timeMs: number): SimCandle {
    return {
      timeMs,
      open: model.priceOfTicks(acc.open),
      high: model.priceOfTicks(acc.high),
      low: model.priceOfTicks(acc.low),
      close: model.priceOfTicks(acc.close),
      volume: acc.volume / VOLUME_UNITS_PER_BASE,
      quoteVolume: acc.quoteVolume / VOLUME_UNITS_PER_BASE,
      lastTradeMs: this.bars.lastMsOf(model, acc),
      tradeCount: acc.count,
    };
  }

  /** Minutes newest first; only a minute cut by the listing time or by now before its last trade needs its trades. */
  private minuteCandles(model: MarketModel, latest: number, nowMs: number, count: number): SimCandle[] {
    const out: SimCandle[] = [];
    const acc = this.acc;
    const listedAtMs = model.market.listedAtMs;
    this.bars.forEachMinuteBackward(model, Math.floor(latest / MINUTE_MS), model.listedMinute, (hour, j) => {
      const start = (hour.hour * 60 + j) * MINUTE_MS;
      acc.reset();
      // A minute whose trades have all happened is summed whole even while it forms: the live
      // candle sent after its last trade then equals the closed one to the last bit.
      if (start >= listedAtMs && (start + MINUTE_MS <= nowMs + 1 || nowMs >= hour.lastMs[j]!)) {
        const bar = hour.minutes.barAt(j, this.scratchBar);
        acc.addMinuteBar(bar, model.turnover(bar.u, bar.w), hour.lastMs[j]!);
      } else this.bars.addTradesOfMinute(model, hour, j, listedAtMs, nowMs + 1, acc);
      if (acc.count > 0) out.push(this.candleOf(model, acc, start));
      return out.length < count;
    });
    return out;
  }

  /** Seconds newest first, from the trades of the minutes with trades. */
  private secondCandles(model: MarketModel, latest: number, nowMs: number, count: number): SimCandle[] {
    const out: SimCandle[] = [];
    const acc = this.acc;
    const listedAtMs = model.market.listedAtMs;
    const endMs = Math.min(nowMs + 1, Math.floor(latest / SECOND_MS) * SECOND_MS + SECOND_MS);
    this.bars.forEachMinuteBackward(model, Math.floor(latest / MINUTE_MS), model.listedMinute, (hour, j) => {
      const trades = this.bars.layout(model, hour, j);
      let i = trades.count - 1;
      while (i >= 0 && trades.times[i]! >= endMs) i--;
      while (i >= 0 && out.length < count) {
        const second = Math.floor(trades.times[i]! / SECOND_MS) * SECOND_MS;
        let k = i;
        while (k > 0 && trades.times[k - 1]! >= second) k--;
        acc.reset();
        for (let t = k; t <= i; t++) if (trades.times[t]! >= listedAtMs) this.addTrade(model, trades, t, acc);
        if (acc.count > 0) out.push(this.candleOf(model, acc, second));
        i = k - 1;
      }
      return out.length < count;
    });
    return out;
  }

  private addTrade(model: MarketModel, trades: MinuteTrades, i: number, acc: Accumulator): void {
    const ticks = trades.ticks[i]!;
    const volume = trades.volumes[i]!;
    acc.addTrade(trades.times[i]!, ticks, volume, model.priceOfTicks(ticks) * volume, trades.sides[i]!);
  }

  // -------------------------------------------------------------------------------------------
  // Trades

  trades(code: string, fromMs: number, toMs: number): SimTrade[] {
    const model = this.model(code);
    const out: SimTrade[] = [];
    const from = Math.max(fromMs, model.market.listedAtMs);
    const end = Math.min(toMs, this.now() + 1);
    if (end <= from) return out;
    this.bars.forEachMinuteForward(model, Math.floor(from / MINUTE_MS), Math.ceil(end / MINUTE_MS), (hour, j) => {
      const trades = this.bars.layout(model, hour, j);
      for (let i = 0; i < trades.count; i++) {
        const ms = trades.times[i]!;
        if (ms >= from && ms < end) out.push(this.tradeAt(model, trades, i));
      }
    });
    return out;
  }

  private tradeAt(model: MarketModel, trades: MinuteTrades, i: number): SimTrade {
    const ms = trades.times[i]!;
    return {
      market: model.market.code,
      timestampMs: ms,
      price: model.priceOfTicks(trades.ticks[i]!),
      volume: trades.volumes[i]! / VOLUME_UNITS_PER_BASE,
      askBid: trades.sides[i] === SIDE_BID ? "BID" : "ASK",
      sequentialId: BigInt(ms) * 10000n + BigInt(trades.seqs[i]!),
    };
  }

  /** The last trade at or before `at` (<= now), or undefined when there is none. */
  private lastTrade(model: MarketModel, at: number): SimTrade | undefined {
    const listedAtMs = model.market.listedAtMs;
    if (at < listedAtMs) return undefined;
    let found: SimTrade | undefined;
    this.bars.forEachMinuteBackward(model, Math.floor(at / MINUTE_MS), model.listedMinute, (hour: HourEntry, j: number) => {
      const trades = this.bars.layout(model, hour, j);
      for (let i = trades.count - 1; i >= 0; i--) {
        const ms = trades.times[i]!;
        if (ms > at) continue;
        if (ms >= listedAtMs) found = this.tradeAt(model, trades, i);
        break;
      }
      return found === undefined;
    });
    return found;
  }

  // -------------------------------------------------------------------------------------------
  // Tickers

  ticker(code: string, atMs: number): SimTicker | undefined {
    const model = this.model(code);
    const nowMs = this.now();
    const at = Math.min(atMs, nowMs);
    const last = this.lastTrade(model, at);
    if (last === undefined) return undefined;
    const listedAtMs = model.market.listedAtMs;
    const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
    const acc = this.acc;

    this.bars.addRange(model, Math.max(at + 1 - DAY_MS, listedAtMs), at + 1, acc.reset());
    const accTradePrice24h = acc.quoteVolume / VOLUME_UNITS_PER_BASE;
    const accTradeVolume24h = acc.volume / VOLUME_UNITS_PER_BASE;

    this.bars.addRange(model, Math.max(dayStart, listedAtMs), at + 1, acc.reset(), true);
    // A day without trades yet shows the last price flat, with nothing traded.
    const today: SimCandle =
      acc.count > 0
        ? this.candleOf(model, acc, dayStart)
        : { timeMs: dayStart, open: last.price, high: last.price, low: last.price, close: last.price, volume: 0, quoteVolume: 0, lastTradeMs: last.timestampMs, tradeCount: 0 };
    const accAskVolume = acc.askVolume / VOLUME_UNITS_PER_BASE;
    const accBidVolume = acc.bidVolume / VOLUME_UNITS_PER_BASE;

    const todayIndex = dayStart / DAY_MS;
    const prevClosingPrice = this.previousClose(model, todayIndex) ?? today.open;
    const before = this.extremesBefore(model, todayIndex);
    let high = before?.high ?? -Infinity;
    let highDay = before?.highDay ?? -1;
    let low = before?.low ?? Infinity;
    let lowDay = before?.lowDay ?? -1;
    if (today.tradeCount > 0) {
      if (today.high >= high) [high, highDay] = [today.high, todayIndex];
      if (today.low <= low) [low, lowDay] = [today.low, todayIndex];
    }
    if (highDay < 0) {
      // No trade in 52 weeks: the last price, on the day it traded.
      const lastDay = Math.floor(last.timestampMs / DAY_MS);
      [high, highDay, low, lowDay] = [last.price, lastDay, last.price, lastDay];
    }
    return {
      market: code,
      lastTrade: last,
      today,
      prevClosingPrice,
      accTradePrice24h,
      accTradeVolume24h,
      accAskVolume,
      accBidVolume,
      highest52WeekPrice: high,
      highest52WeekDateMs: highDay * DAY_MS,
      lowest52WeekPrice: low,
      lowest52WeekDateMs: lowDay * DAY_MS,
    };
  }

  /** Day `d`'s aggregate (its part after the listing time on the listing day) into `this.acc`. */
  private aggregateDay(model: MarketModel, d: number): Accumulator {
    const acc = this.acc.reset();
    this.bars.addRange(model, Math.max(d * DAY_MS, model.market.listedAtMs), (d + 1) * DAY_MS, acc);
    return acc;
  }

  /** Close of the latest day with trades before day `d`, in ticks converted to a price. */
  private previousClose(model: MarketModel, d: number): number | undefined {
    for (let day = d - 1; day >= model.listedDay; day--) {
      if (day > model.listedDay) {
        const bar = this.bars.dayBar(model, day);
        if (bar.n > 0) return model.priceOfTicks(bar.c);
        continue;
      }
      const acc = this.aggregateDay(model, day);
      if (acc.count > 0) return model.priceOfTicks(acc.close);
    }
    return undefined;
  }

  /** Highest and lowest prices (latest day on ties) of the 363 whole days before day `d`. */
  private extremesBefore(model: MarketModel, d: number): Extremes | undefined {
    const key = model.ordinal * 1e6 + d;
    const cached = this.extremesCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let high = -Infinity;
    let highDay = -1;
    let low = Infinity;
    let lowDay = -1;
    for (let day = Math.max(d - DAYS_52_WEEKS + 1, model.listedDay); day < d; day++) {
      let dayHigh: number;
      let dayLow: number;
      if (day > model.listedDay) {
        const bar = this.bars.dayBar(model, day);
        if (bar.n === 0) continue;
        [dayHigh, dayLow] = [bar.h, bar.l];
      } else {
        const acc = this.aggregateDay(model, day);
        if (acc.count === 0) continue;
        [dayHigh, dayLow] = [acc.high, acc.low];
      }
      if (dayHigh >= high) [high, highDay] = [dayHigh, day];
      if (dayLow <= low) [low, lowDay] = [dayLow, day];
    }
    const result = highDay < 0 ? null : { high: model.priceOfTicks(high), highDay, low: model.priceOfTicks(low), lowDay };
    this.extremesCache.set(key, result);
    return result ?? undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Order books

  orderbook(code: string, atMs: number, depth: number): SimOrderbook {
    const model = this.model(code);
    const market = model.market;
    const at = Math.min(atMs, this.now());
    const levels = Math.max(1, Math.min(MAX_BOOK_DEPTH, Math.floor(depth)));
    const rate = market.tradesPerMinute;
    const busy = rate >= BOOK_BUSY_TRADES_PER_MINUTE;
    // Quiet books change less often: the grid doubles per halving of liquidity.
    const gridMs = busy
      ? BOOK_GRID_MS
      : Math.min(BOOK_MAX_GRID_MS, BOOK_GRID_MS * 2 ** Math.ceil(Math.log2(BOOK_BUSY_TRADES_PER_MINUTE / Math.max(rate, 1e-6))));
    const last = this.lastTrade(model, at);
    const gridTime = Math.floor(at / gridMs) * gridMs;
    const timestampMs = Math.max(gridTime, last?.timestampMs ?? market.listedAtMs);
    // Before any trade the book sits around the reference path.
    const centerTicks = last !== undefined ? model.ticksOf(last.price) : model.ceilTicks(model.pathPriceAtMinute(Math.floor(at / MINUTE_MS)));
    const lastSide = last?.askBid ?? "BID";

    const rng = this.bookRng.seed(model.bookSeed(timestampMs));
    const spread = busy ? 1 : 1 + (rng.next() % 3);
    // The last taker bought at the best ask (it is still there) or sold at the best bid.
    let askTicks = lastSide === "BID" ? centerTicks : centerTicks + spread;
    let bidTicks = askTicks - spread;
    if (bidTicks < 1) {
      bidTicks = 1;
      askTicks = 1 + spread;
    }
    const units: SimOrderbookUnit[] = [];
    for (let i = 0; i < levels && bidTicks >= 1; i++) {
      const askPrice = model.priceOfTicks(askTicks);
      const bidPrice = model.priceOfTicks(bidTicks);
      units.push({ askPrice, askSize: this.bookSize(model, askPrice, rng), bidPrice, bidSize: this.bookSize(model, bidPrice, rng) });
      const gap = rng.next();
      askTicks += busy ? 1 + ((gap & 0xff) < 32 ? 1 : 0) : 1 + ((gap >>> 8) % 4);
      bidTicks -= busy ? 1 + (((gap >>> 16) & 0xff) < 32 ? 1 : 0) : 1 + ((gap >>> 24) % 4);
    }
    return { market: code, timestampMs, units };
  }

  private bookSize(model: MarketModel, price: number, rng: Rng): number {
    const factor = SIZE_FACTORS[rng.next() & SIZE_TABLE_MASK]!;
    const size = Math.round(((2 * model.medianNotional * factor) / price) * VOLUME_UNITS_PER_BASE) / VOLUME_UNITS_PER_BASE;
    return size < MIN_VOLUME ? MIN_VOLUME : size;
  }
}

export function createSyntheticExchange(options: SyntheticExchangeOptions): SyntheticExchange {
  return new Exchange(options);
}
