/**
 * The market's bars top-down, with bounded caches: a day's bar from the market model (O(1)), its
 * 24 hour bars from a split of the day, an hour's 60 minute bars from a split of the hour, and a
 * minute's trades laid out from its bar. Any range of time aggregates from the largest whole
 * pieces it contains, so every level agrees with the ones below it by construction.
 */
import { Bar, BarSplit, splitCounts, splitShape } from "./bar-split.js";
import type { MarketModel } from "./market-model.js";
import { MinuteTrades, SIDE_BID, lastTradeMsOf, layoutMinute } from "./minute-trades.js";
import { Rng } from "./sim-random.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const HOURS_PER_DAY = 24;
const MINUTES_PER_HOUR = 60;

/** Bounded caches; entries are ~2 KB (days) and ~5 KB (hours): ~16 MB and ~20 MB at most. */
const DAY_CACHE_MAX_ENTRIES = 8_192;
const HOUR_CACHE_MAX_ENTRIES = 4_096;
/**
 * Taker split of whole hours, apart from the hour entries: tickers of every market need today's
 * hours (~15 × 260), which must not evict each other. ~100 bytes each.
 */
const HOUR_SIDES_CACHE_MAX_ENTRIES = 65_536;

/** Map-backed LRU with a fixed maximum number of entries. */
export class LruCache<V> {
  private readonly map = new Map<number, V>();
  constructor(private readonly maxEntries: number) {}

  get(key: number): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: number, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
}

/** A day's bar and its hours. */
export class DayEntry {
  readonly bar = new Bar();
  readonly hours = new BarSplit(HOURS_PER_DAY);
  constructor(readonly day: number) {}
}

/** An hour's bar, its minutes, their last-trade times and (once asked for) their taker split. */
export class HourEntry {
  readonly bar = new Bar();
  readonly minutes = new BarSplit(MINUTES_PER_HOUR);
  readonly lastMs: Float64Array;
  readonly askVolume: Float64Array;
  readonly bidVolume: Float64Array;
  constructor(readonly hour: number) {
    const buffer = new ArrayBuffer(3 * MINUTES_PER_HOUR * 8);
    this.lastMs = new Float64Array(buffer, 0, MINUTES_PER_HOUR);
    this.askVolume = new Float64Array(buffer, MINUTES_PER_HOUR * 8, MINUTES_PER_HOUR).fill(Number.NaN);
    this.bidVolume = new Float64Array(buffer, 2 * MINUTES_PER_HOUR * 8, MINUTES_PER_HOUR);
  }
}

/** Taker volumes of a whole hour. */
interface HourSides {
  readonly ask: number;
  readonly bid: number;
}

/**
 * Running aggregate of bars and trades added in time order. Prices in ticks. The last trade's
 * time of a whole day or hour is only resolved when a candle is made of it (`lastDay`, `lastHour`).
 */
export class Accumulator {
  count = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  quoteVolume = 0;
  askVolume = 0;
  bidVolume = 0;
  lastMs = 0;
  lastDay = -1;
  lastHour = -1;

  reset(): this {
    this.count = 0;
    this.volume = 0;
    this.quoteVolume = 0;
    this.askVolume = 0;
    this.bidVolume = 0;
    this.lastDay = -1;
    this.lastHour = -1;
    return this;
  }

  private addPrices(n: number, o: number, h: number, l: number, c: number): void {
    if (this.count === 0) {
      this.open = o;
      this.high = h;
      this.low = l;
    } else {
      if (h > this.high) this.high = h;
      if (l < this.low) this.low = l;
    }
    this.close = c;
    this.count += n;
  }

  addBar(bar: Bar, quoteVolume: number): void {
    this.addPrices(bar.n, bar.o, bar.h, bar.l, bar.c);
    this.volume += bar.u;
    this.quoteVolume += quoteVolume;
  }

  addDayBar(bar: Bar, quoteVolume: number, day: number): void {
    this.addBar(bar, quoteVolume);
    this.lastDay = day;
    this.lastHour = -1;
  }

  addHourBar(bar: Bar, quoteVolume: number, hour: number): void {
    this.addBar(bar, quoteVolume);
    this.lastDay = -1;
    this.lastHour = hour;
  }

  addMinuteBar(bar: Bar, quoteVolume: number, lastMs: number): void {
    this.addBar(bar, quoteVolume);
    this.lastMs = lastMs;
    this.lastDay = -1;
    this.lastHour = -1;
  }

  addTrade(ms: number, ticks: number, volume: number, quoteVolume: number, side: number): void {
    this.addPrices(1, ticks, ticks, ticks, ticks);
    this.volume += volume;
    this.quoteVolume += quoteVolume;
    this.lastMs = ms;
    this.lastDay = -1;
    this.lastHour = -1;
    if (side === SIDE_BID) this.bidVolume += volume;
    else this.askVolume += volume;
  }

  addSides(ask: number, bid: number): void {
    this.askVolume += ask;
    this.bidVolume += bid;
  }
}

/** The bars of all markets of one exchange, cached. */
export class BarHierarchy {
  private readonly days = new LruCache<DayEntry>(DAY_CACHE_MAX_ENTRIES);
  private readonly hours = new LruCache<HourEntry>(HOUR_CACHE_MAX_ENTRIES);
  private readonly hourSidesCache = new LruCache<HourSides>(HOUR_SIDES_CACHE_MAX_ENTRIES);
  /** The last laid-out minute (shared: every use reads it before laying out another). */
  readonly trades = new MinuteTrades();
  private readonly countsRng = new Rng();
  private readonly shapeRng = new Rng();
  private readonly scratchBar = new Bar();
  private readonly hourWeights = new Float64Array(HOURS_PER_DAY);
  private readonly minuteWeights = new Float64Array(MINUTES_PER_HOUR);
  private readonly hourCounts = new Int32Array(HOURS_PER_DAY);
  private readonly minuteCounts = new Int32Array(MINUTES_PER_HOUR);

  /** Day `d`'s bar, uncached (O(1)); valid until the next call. */
  dayBar(model: MarketModel, d: number): Bar {
    return model.dayBar(d, this.scratchBar);
  }

  day(model: MarketModel, d: number): DayEntry {
    const key = model.ordinal * 1e6 + d;
    const cached = this.days.get(key);
    if (cached !== undefined) return cached;
    const entry = new DayEntry(d);
    model.dayBar(d, entry.bar);
    if (entry.bar.n > 0) {
      this.countDayTrades(model, d, entry.bar.n, entry.hours.n);
      splitShape(entry.bar, entry.hours, this.shapeRng.seed(model.dayShapeSeed(d)));
    }
    this.days.set(key, entry);
    return entry;
  }

  hour(model: MarketModel, hour: number): HourEntry {
    const key = model.ordinal * 1e7 + hour;
    const cached = this.hours.get(key);
    if (cached !== undefined) return cached;
    const entry = new HourEntry(hour);
    const d = Math.floor(hour / HOURS_PER_DAY);
    this.day(model, d).hours.barAt(hour - d * HOURS_PER_DAY, entry.bar);
    if (entry.bar.n > 0) {
      const minutes = entry.minutes;
      this.countHourTrades(model, hour, entry.bar.n, minutes.n);
      splitShape(entry.bar, minutes, this.shapeRng.seed(model.hourShapeSeed(hour)));
      const first = hour * MINUTES_PER_HOUR;
      for (let j = 0; j < MINUTES_PER_HOUR; j++) {
        const n = minutes.n[j]!;
        if (n > 0) entry.lastMs[j] = lastTradeMsOf(first + j, n, model.lastTradeUnit(first + j));
      }
    }
    this.hours.set(key, entry);
    return entry;
  }

  private countDayTrades(model: MarketModel, d: number, n: number, out: Int32Array): void {
    splitCounts(n, model.hourWeights(d, this.hourWeights), HOURS_PER_DAY, this.countsRng.seed(model.dayCountsSeed(d)), out);
  }

  private countHourTrades(model: MarketModel, hour: number, n: number, out: Int32Array): void {
    splitCounts(n, model.minuteWeights(hour, this.minuteWeights), MINUTES_PER_HOUR, this.countsRng.seed(model.hourCountsSeed(hour)), out);
  }

  /** Lays out minute `j` of `hour` (which has trades) into `this.trades`. */
  layout(model: MarketModel, hour: HourEntry, j: number): MinuteTrades {
    const m = hour.hour * MINUTES_PER_HOUR + j;
    layoutMinute(hour.minutes.barAt(j, this.scratchBar), m, hour.lastMs[j]!, model.tradesSeed(m), this.trades);
    return this.trades;
  }

  /**
   * Time of the last trade of day `d` with `n` > 0 trades: its last hour with trades, that hour's
   * last minute with trades, that minute's last trade. Counts only, unless the splits are cached.
   */
  lastMsOfDay(model: MarketModel, d: number, n: number): number {
    const cached = this.days.get(model.ordinal * 1e6 + d);
    let hourCounts: Int32Array;
    if (cached !== undefined) hourCounts = cached.hours.n;
    else {
      hourCounts = this.hourCounts;
      this.countDayTrades(model, d, n, hourCounts);
    }
    let i = HOURS_PER_DAY - 1;
    while (hourCounts[i]! === 0) i--;
    return this.lastMsOfHour(model, d * HOURS_PER_DAY + i, hourCounts[i]!);
  }

  lastMsOfHour(model: MarketModel, hour: number, n: number): number {
    const cached = this.hours.get(model.ordinal * 1e7 + hour);
    if (cached !== undefined) return cached.lastMs[cached.minutes.lastNonEmpty()]!;
    const counts = this.minuteCounts;
    this.countHourTrades(model, hour, n, counts);
    let j = MINUTES_PER_HOUR - 1;
    while (counts[j]! === 0) j--;
    const m = hour * MINUTES_PER_HOUR + j;
    return lastTradeMsOf(m, counts[j]!, model.lastTradeUnit(m));
  }

  /** Resolves the accumulator's last-trade time (see `Accumulator`). */
  lastMsOf(model: MarketModel, acc: Accumulator): number {
    if (acc.lastDay >= 0) return this.lastMsOfDay(model, acc.lastDay, this.dayBar(model, acc.lastDay).n);
    if (acc.lastHour >= 0) {
      const d = Math.floor(acc.lastHour / HOURS_PER_DAY);
      return this.lastMsOfHour(model, acc.lastHour, this.day(model, d).hours.n[acc.lastHour - d * HOURS_PER_DAY]!);
    }
    return acc.lastMs;
  }

  // -------------------------------------------------------------------------------------------
  // Taker sides (only tickers need them: today's volumes by side)

  private minuteSides(model: MarketModel, hour: HourEntry, j: number): void {
    if (!Number.isNaN(hour.askVolume[j]!)) return;
    const trades = this.layout(model, hour, j);
    hour.askVolume[j] = trades.askVolume;
    hour.bidVolume[j] = trades.bidVolume;
  }

  private hourSides(model: MarketModel, hourIndex: number): HourSides {
    const key = model.ordinal * 1e7 + hourIndex;
    const cached = this.hourSidesCache.get(key);
    if (cached !== undefined) return cached;
    const hour = this.hour(model, hourIndex);
    let ask = 0;
    let bid = 0;
    for (let j = 0; j < MINUTES_PER_HOUR; j++) {
      if (hour.minutes.n[j]! === 0) continue;
      this.minuteSides(model, hour, j);
      ask += hour.askVolume[j]!;
      bid += hour.bidVolume[j]!;
    }
    const sides = { ask, bid };
    this.hourSidesCache.set(key, sides);
    return sides;
  }

  // -------------------------------------------------------------------------------------------
  // Ranges

  /**
   * Adds the trades with `fromMs <= time < toMs` to `acc` (callers clip the range to the listing
   * time and now), from whole days, hours and minutes where they fit, trades elsewhere. With
   * `sides`, also the taker split, kept apart so the other sums do not depend on it.
   *
   * A day, hour or minute counts as whole once the range holds all of its trades (it starts at
   * the unit's start and ends after its last trade), even before the unit ends: the live candle
   * sent at a bucket's last trade is then summed exactly as the closed candle served later, to
   * the last bit, instead of from the trades in another order.
   */
  addRange(model: MarketModel, fromMs: number, toMs: number, acc: Accumulator, sides = false): void {
    let t = fromMs;
    while (t < toMs) {
      const d = Math.floor(t / DAY_MS);
      const dayStart = d * DAY_MS;
      const end = Math.min(toMs, dayStart + DAY_MS);
      if (t === dayStart && !sides && this.holdsWholeDay(model, d, end)) {
        const bar = this.dayBar(model, d);
        if (bar.n > 0) acc.addDayBar(bar, model.turnover(bar.u, bar.w), d);
      } else this.addPartOfDay(model, d, t, end, acc, sides);
      t = end;
    }
  }

  /** Whether `[start of day d, toMs)` holds every trade of day `d`. */
  private holdsWholeDay(model: MarketModel, d: number, toMs: number): boolean {
    if (toMs >= (d + 1) * DAY_MS) return true;
    const n = this.dayBar(model, d).n;
    return n > 0 && toMs > this.lastMsOfDay(model, d, n);
  }

  private addPartOfDay(model: MarketModel, d: number, fromMs: number, toMs: number, acc: Accumulator, sides: boolean): void {
    const day = this.day(model, d);
    if (day.bar.n === 0) return;
    const whole = fromMs === d * DAY_MS && toMs > this.lastMsOfDay(model, d, day.bar.n);
    if (whole) acc.addDayBar(day.bar, model.turnover(day.bar.u, day.bar.w), d);
    for (let hour = Math.floor(fromMs / HOUR_MS); hour * HOUR_MS < toMs; hour++) {
      const i = hour - d * HOURS_PER_DAY;
      if (day.hours.n[i]! === 0) continue;
      const start = Math.max(fromMs, hour * HOUR_MS);
      const end = Math.min(toMs, (hour + 1) * HOUR_MS);
      if (start === hour * HOUR_MS && (end === start + HOUR_MS || end > this.lastMsOfHour(model, hour, day.hours.n[i]!))) {
        if (!whole) {
          const bar = day.hours.barAt(i, this.scratchBar);
          acc.addHourBar(bar, model.turnover(bar.u, bar.w), hour);
        }
        if (sides) {
          const hourSides = this.hourSides(model, hour);
          acc.addSides(hourSides.ask, hourSides.bid);
        }
      } else this.addPartOfHour(model, this.hour(model, hour), start, end, acc, sides);
    }
  }

  private addPartOfHour(model: MarketModel, hour: HourEntry, fromMs: number, toMs: number, acc: Accumulator, sides: boolean): void {
    const first = hour.hour * MINUTES_PER_HOUR;
    for (let m = Math.floor(fromMs / MINUTE_MS); m * MINUTE_MS < toMs; m++) {
      const j = m - first;
      if (hour.minutes.n[j]! === 0) continue;
      const start = m * MINUTE_MS;
      if (fromMs <= start && (start + MINUTE_MS <= toMs || toMs > hour.lastMs[j]!)) {
        const bar = hour.minutes.barAt(j, this.scratchBar);
        acc.addMinuteBar(bar, model.turnover(bar.u, bar.w), hour.lastMs[j]!);
        if (sides) {
          this.minuteSides(model, hour, j);
          acc.addSides(hour.askVolume[j]!, hour.bidVolume[j]!);
        }
      } else this.addTradesOfMinute(model, hour, j, fromMs, toMs, acc);
    }
  }

  /** Adds minute `j`'s trades with `fromMs <= time < toMs`. */
  addTradesOfMinute(model: MarketModel, hour: HourEntry, j: number, fromMs: number, toMs: number, acc: Accumulator): void {
    const trades = this.layout(model, hour, j);
    for (let i = 0; i < trades.count; i++) {
      const ms = trades.times[i]!;
      if (ms < fromMs || ms >= toMs) continue;
      const ticks = trades.ticks[i]!;
      const volume = trades.volumes[i]!;
      acc.addTrade(ms, ticks, volume, model.priceOfTicks(ticks) * volume, trades.sides[i]!);
    }
  }

  /**
   * Visits the minutes with trades from minute `from` down to minute `stop`, newest first, until
   * `visit` returns false; empty days and hours are skipped whole.
   */
  forEachMinuteBackward(model: MarketModel, from: number, stop: number, visit: (hour: HourEntry, j: number) => boolean): void {
    let m = from;
    while (m >= stop) {
      const d = Math.floor(m / (HOURS_PER_DAY * MINUTES_PER_HOUR));
      const day = this.day(model, d);
      const hourIndex = Math.floor(m / MINUTES_PER_HOUR);
      const hourStart = hourIndex * MINUTES_PER_HOUR;
      if (day.bar.n === 0) {
        m = d * HOURS_PER_DAY * MINUTES_PER_HOUR - 1;
        continue;
      }
      if (day.hours.n[hourIndex - d * HOURS_PER_DAY]! === 0) {
        m = hourStart - 1;
        continue;
      }
      const hour = this.hour(model, hourIndex);
      const floor = Math.max(stop, hourStart);
      for (; m >= floor; m--) {
        if (hour.minutes.n[m - hourStart]! > 0 && !visit(hour, m - hourStart)) return;
      }
    }
  }

  /** Visits the minutes with trades in [fromMinute, endMinute), oldest first. */
  forEachMinuteForward(model: MarketModel, fromMinute: number, endMinute: number, visit: (hour: HourEntry, j: number) => void): void {
    let m = fromMinute;
    while (m < endMinute) {
      const d = Math.floor(m / (HOURS_PER_DAY * MINUTES_PER_HOUR));
      const day = this.day(model, d);
      const hourIndex = Math.floor(m / MINUTES_PER_HOUR);
      const hourEnd = (hourIndex + 1) * MINUTES_PER_HOUR;
      if (day.bar.n === 0) {
        m = (d + 1) * HOURS_PER_DAY * MINUTES_PER_HOUR;
        continue;
      }
      if (day.hours.n[hourIndex - d * HOURS_PER_DAY]! === 0) {
        m = hourEnd;
        continue;
      }
      const hour = this.hour(model, hourIndex);
      const end = Math.min(endMinute, hourEnd);
      for (; m < end; m++) {
        const j = m - hourIndex * MINUTES_PER_HOUR;
        if (hour.minutes.n[j]! > 0) visit(hour, j);
      }
    }
  }
}
