/**
 * The deterministic synthetic exchange: every trade, candle, ticker and order book is a pure
 * function of (seed, market, time), computed on demand; nothing is stored but bounded caches.
 *
 * Model, per market:
 * - A reference log-price defined at every minute boundary by multi-octave hashed value noise
 *   (octave periods 1 minute .. 2^20 minutes, amplitudes growing like sqrt(period), so the path
 *   looks like a random walk at every scale yet stays around the market's reference price).
 * - The number of trades in a minute: Poisson from a hash of (market, minute), at a rate shaped
 *   by a time-of-day profile and an hourly activity factor. Most tail-market minutes are empty,
 *   and deciding so costs one hash.
 * - A sparse minute (fewer than STRUCTURED_MIN_TRADES trades): a PRNG seeded by
 *   hash(market, minute) walks from the reference price at the minute's start to the one at its
 *   end with bounded noise; takers buy at the tick above and sell at the tick below.
 * - A busy minute: its aggregate first, in O(1) from a few hashes (open and close on the path
 *   with noise, high and low beyond them within the noise band, volume, turnover, taker split,
 *   last trade time); its trades are laid out from that aggregate only when asked for, so that
 *   they aggregate back to it exactly (see `generateStructured`).
 *
 * A candle is the aggregate of its bucket's trades: whole minutes come from their aggregates,
 * a minute cut by the listing time or by now from its trades, a day from its 1,440 minutes
 * (cached per market and day), a week/month/year from its days. Because trade prices are bounded
 * by the reference path, the 52-week high and low are found by branch and bound (weeks, days,
 * hours, then minutes) without looking at a year of minutes.
 */
import { bucketIndex, bucketTimeOfIndex } from "../shared/time.js";
import type { Timeframe } from "../shared/timeframe.js";
import type {
  SimCandle,
  SimMarket,
  SimOrderbook,
  SimOrderbookUnit,
  SimTicker,
  SimTrade,
  SyntheticExchange,
} from "./exchange-model.js";

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

// Local copies: imported bindings cost a property load (or a getter) per use in the hot loops.
const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MINUTES_PER_DAY = DAY_MS / MINUTE_MS;
const MINUTES_PER_HOUR = 60;
const HOURS_PER_DAY = 24;
/** 52 weeks of UTC days, today included. */
const DAYS_52_WEEKS = 364;

/** Bounded caches. Entries are ~150 bytes: at most ~30 MB of day aggregates (260 markets × 2 years fit). */
const DAY_CACHE_MAX_ENTRIES = 200_000;
const HOUR_CACHE_MAX_ENTRIES = 100_000;
/** 52-week extremes of the days before a given day, per market. */
const EXTREMES_CACHE_MAX_ENTRIES = 20_000;

/** Value-noise octaves: periods 2^0 .. 2^20 minutes (1 minute .. ~2 years). */
const OCTAVES = 21;
const OCTAVE_PERIODS: readonly number[] = Array.from({ length: OCTAVES }, (_, k) => 2 ** k);
const OCTAVE_RECIPROCALS: readonly number[] = OCTAVE_PERIODS.map((p) => 1 / p);
/** Octaves below this are evaluated at every minute; the longer ones on a grid (see `fillPriceBlock`). */
const SHORT_OCTAVES = 6;
/** Grid of the long octaves' sum, minutes: the period of the shortest long octave. */
const LONG_GRID_SHIFT = 6;
const LONG_GRID_MINUTES = 1 << LONG_GRID_SHIFT;
/**
 * Log-price amplitude unit: an octave of period P minutes has amplitude unit × sqrt(P). Gives
 * ~2 % daily and ~12 % monthly moves at temperament 1; the sum of all amplitudes (~1.4 e-folds
 * at temperament 1) bounds how far a price can ever stray from the reference, typically ~0.3.
 */
const LOG_AMPLITUDE_UNIT = 0.0004;
/** Markets trading less than this are more volatile by the factor below. */
const THIN_MARKET_TRADES_PER_MINUTE = 1;
const THIN_MARKET_VOLATILITY = 1.4;
/** Intra-minute noise around the straight path, relative to the amplitude unit. */
const INTRA_MINUTE_NOISE = 0.8;
/** Persistence of the intra-minute noise from one trade to the next (keeps it walk-like, bounded by 1). */
const INTRA_MINUTE_PERSISTENCE = 0.6;
/** Lattice points scanned per octave when bounding an interval; more than this and the bound is the amplitude. */
const MAX_LATTICE_SCAN = 16;
/** Intervals up to this many grid points (a day) are bounded with the long part's exact (cached) values. */
const EXACT_GRID_POINTS = 32;
/** Direct-mapped cache of the long part at grid points, per market (8 KB, ~23 days of grid points). */
const GRID_CACHE_SLOTS = 512;
/** Relative slack on price bounds against floating-point rounding. */
const BOUND_EPSILON = 1e-9;

/** Hard cap on one minute's trades (the busiest markets average ~30, bursts ~120). */
const MAX_TRADES_PER_MINUTE = 512;
/**
 * Minutes with at least this many trades are built from a closed-form aggregate (open, close,
 * high, low, volume, turnover, taker split: a few hashes), and their trades from it on demand;
 * sparser minutes are generated trade by trade (at most a few trades, as cheap). See `structuredAggregate`.
 */
const STRUCTURED_MIN_TRADES = 6;
/**
 * In a structured minute the "counter flow" (open, close, high, low and scattered trades, at the
 * minority taker side) carries this share of the volume, 0.25 .. 0.45; the "main flow" (the
 * majority side, trading at two adjacent ticks around the middle of the range) carries the rest
 * and makes the turnover exact. The main flow must carry more than half for that to be possible.
 */
const COUNTER_SHARE_MIN = 0.25;
const COUNTER_SHARE_SPREAD = 0.2;
/** Smallest structured-minute volume, in 1e-8 units per trade (every trade needs at least one unit). */
const MIN_UNITS_PER_TRADE = 4;
/** One in this many trades (of 256) continues the previous taker order: same ms, side and price. */
const CLUSTER_CONTINUE_OF_256 = 51;
/** Trades are rounded to Upbit's 8 decimals; the smallest volume. */
const VOLUME_DECIMALS_SCALE = 1e8;
const MIN_VOLUME = 1e-8;
/** Median trade notional in KRW at 1 trade/min; grows with liquidity as (1 + rate)^0.7. */
const MEDIAN_NOTIONAL_KRW = 30_000;
const NOTIONAL_LIQUIDITY_EXPONENT = 0.7;
/** Rough KRW value of one quote unit, to size BTC- and USDT-quoted trades. */
const KRW_PER_QUOTE: Readonly<Record<SimMarket["quote"], number>> = { KRW: 1, BTC: 103_458_000, USDT: 1_463 };
/** Spread of log trade size (lognormal sigma). */
const NOTIONAL_LOG_SIGMA = 1.3;
const NOTIONAL_TABLE_SIZE = 1024;

/** Trading activity by UTC hour (Korean daytime busiest); normalised to mean 1 below. */
const RAW_HOURLY_PROFILE = [
  1.3, 1.4, 1.3, 1.2, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.3, 1.0, 0.8, 0.6, 0.5, 0.5, 0.6, 0.7, 0.9, 1.1,
];
/** Each hour's activity is also scaled by 0.4 + 1.8 u² (mean 1) for u uniform from a hash. */
const ACTIVITY_BASE = 0.4;
const ACTIVITY_SPREAD = 1.8;

/** Order books change on this grid for busy markets (Upbit publishes every ~100 ms)... */
const BOOK_GRID_MS = 100;
/** ...and this much less often per halving of liquidity below 10 trades/min, up to once a minute. */
const BOOK_BUSY_TRADES_PER_MINUTE = 10;
const BOOK_MAX_GRID_MS = 60_000;
const MAX_BOOK_DEPTH = 30;

/** A ticker looks this far back minute by minute for the last trade before using day aggregates. */
const LAST_TRADE_MINUTE_SCAN = 3 * MINUTES_PER_DAY;

/** Hash salts: one per independent random stream. */
const SALT_LATTICE = 0x1000;
const SALT_COUNT = 0x2000;
const SALT_ACTIVITY = 0x3000;
const SALT_TRADES = 0x4000;
const SALT_BOOK = 0x5000;

const INV_2_16 = 1 / 65536;
const INV_2_32 = 1 / 4294967296;
/** Maps a 32-bit hash to [0, 2); minus one gives a lattice value in [-1, 1). */
const LATTICE_SCALE = 2 / 4294967296;
const INV_255 = 1 / 255;

const SIDE_ASK = 0;
const SIDE_BID = 1;

// ---------------------------------------------------------------------------------------------
// Hashing and random numbers

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** 32-bit hash of (key, salt, index); `index` an integer below 2^53. */
function hash3(key: number, salt: number, index: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  return mix32(key ^ mix32(salt ^ mix32(lo + Math.imul(hi, 0x9e3779b1))));
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/**
 * Fast keyed hash of a 32-bit index (minutes, hours, lattice cells): the index scrambled by an odd
 * multiplier, xored with a per-stream key, then one round of a full-avalanche finalizer.
 */
function hashIndex(streamKey: number, index: number): number {
  return mix32(Math.imul(index, 0x9e3779b1) ^ streamKey);
}

/** mulberry32; one shared state, since every use is synchronous and consumed at once. */
let rngState = 0;
function nextRandom(): number {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = Math.imul(rngState ^ (rngState >>> 15), 1 | rngState);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (t ^ (t >>> 14)) >>> 0;
}

/** Lognormal trade-size factors (median 1), indexed by 10 random bits: no exp per trade. */
const NOTIONAL_FACTORS = ((): Float64Array => {
  const table = new Float64Array(NOTIONAL_TABLE_SIZE);
  rngState = 0x5eed;
  for (let i = 0; i < NOTIONAL_TABLE_SIZE; i++) {
    let sum = 0;
    for (let j = 0; j < 12; j++) sum += nextRandom() / 4294967296;
    table[i] = Math.exp(NOTIONAL_LOG_SIGMA * (sum - 6));
  }
  return table;
})();
/** Mean trade-size factor (a lognormal's mean exceeds its median). */
const NOTIONAL_MEAN = NOTIONAL_FACTORS.reduce((a, b) => a + b, 0) / NOTIONAL_TABLE_SIZE;
const INVERSE_COUNT = Float64Array.from({ length: MAX_TRADES_PER_MINUTE + 1 }, (_, n) => (n === 0 ? 0 : 1 / n));
/** 1 / sqrt(n): a minute's total size varies like a sum of n independent sizes. */
const INV_SQRT_COUNT = Float64Array.from({ length: MAX_TRADES_PER_MINUTE + 1 }, (_, n) => (n === 0 ? 0 : 1 / Math.sqrt(n)));

const HOURLY_PROFILE = ((): Float64Array => {
  const mean = RAW_HOURLY_PROFILE.reduce((a, b) => a + b, 0) / RAW_HOURLY_PROFILE.length;
  return Float64Array.from(RAW_HOURLY_PROFILE, (v) => v / mean);
})();

function smoothstep(f: number): number {
  return f * f * (3 - 2 * f);
}

/** smoothstep(j / 2^k) for the short octaves k and every j < 2^k, at index (k << 5) + j. */
const SHORT_SMOOTHSTEP_SHIFT = 5;
const SHORT_SMOOTHSTEP = ((): Float64Array => {
  const table = new Float64Array(SHORT_OCTAVES << SHORT_SMOOTHSTEP_SHIFT);
  for (let k = 0; k < SHORT_OCTAVES; k++) {
    const period = 2 ** k;
    for (let j = 0; j < period; j++) table[(k << SHORT_SMOOTHSTEP_SHIFT) + j] = smoothstep(j / period);
  }
  return table;
})();

// ---------------------------------------------------------------------------------------------
// Scratch buffers for one minute's trades: aggregation reads them without allocating per trade.

const tradeTimes = new Float64Array(MAX_TRADES_PER_MINUTE);
const tradePrices = new Float64Array(MAX_TRADES_PER_MINUTE);
/** Volumes in units of 1e-8 (Upbit's 8 decimals), whole numbers: sums stay exact and division waits. */
const tradeVolumeUnits = new Float64Array(MAX_TRADES_PER_MINUTE);
const tradeSides = new Uint8Array(MAX_TRADES_PER_MINUTE);
const tradeSeqs = new Uint16Array(MAX_TRADES_PER_MINUTE);
/** Structured minutes: each trade's role and size weight while its minute is laid out. */
const tradeRoles = new Uint8Array(MAX_TRADES_PER_MINUTE);
const tradeWeights = new Float64Array(MAX_TRADES_PER_MINUTE);
const ROLE_COUNTER = 0;
const ROLE_MAIN_LOW = 1;
const ROLE_MAIN_HIGH = 2;
/** Closed-form parameters of the last structured minute (see `structuredAggregate`), in ticks and 1e-8 units. */
class StructuredMinute {
  openTicks = 0;
  closeTicks = 0;
  highTicks = 0;
  lowTicks = 0;
  volumeUnits = 0;
  counterUnits = 0;
  /** Sum of ticks × units over the minute's trades. */
  turnoverUnits = 0;
  mainCount = 0;
  mainBid = false;
  firstMs = 0;
  layoutSeed = 0;
}
const struct = new StructuredMinute();
/**
 * Totals of the last generated minute (saves a second pass when only aggregates are wanted).
 * Fields of one object, not module `let`s: V8 boxes every double written to a module variable,
 * which costs an allocation per write in the hottest loops.
 */
class MinuteTotals {
  open = 0;
  close = 0;
  lastMs = 0;
  high = 0;
  low = 0;
  volume = 0;
  quoteVolume = 0;
  bidVolume = 0;
  askVolume = 0;
}
const minute = new MinuteTotals();

// ---------------------------------------------------------------------------------------------
// Aggregates

interface Aggregate {
  readonly count: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly quoteVolume: number;
  readonly lastMs: number;
  readonly askVolume: number;
  readonly bidVolume: number;
}

/** Running aggregate of trades (or of earlier aggregates) added in time order. */
class Accumulator implements Aggregate {
  count = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  quoteVolume = 0;
  lastMs = 0;
  askVolume = 0;
  bidVolume = 0;

  reset(): this {
    this.count = 0;
    this.volume = 0;
    this.quoteVolume = 0;
    this.askVolume = 0;
    this.bidVolume = 0;
    return this;
  }

  addTrade(ms: number, price: number, volume: number, side: number): void {
    if (this.count === 0) {
      this.open = price;
      this.high = price;
      this.low = price;
    } else {
      if (price > this.high) this.high = price;
      if (price < this.low) this.low = price;
    }
    this.close = price;
    this.lastMs = ms;
    this.count++;
    this.volume += volume;
    this.quoteVolume += price * volume;
    if (side === SIDE_BID) this.bidVolume += volume;
    else this.askVolume += volume;
  }

  /** Adds the last generated minute's totals (`minute`), `count` trades. */
  addMinuteTotals(count: number): void {
    if (this.count === 0) {
      this.open = minute.open;
      this.high = minute.high;
      this.low = minute.low;
    } else {
      if (minute.high > this.high) this.high = minute.high;
      if (minute.low < this.low) this.low = minute.low;
    }
    this.close = minute.close;
    this.lastMs = minute.lastMs;
    this.count += count;
    this.volume += minute.volume;
    this.quoteVolume += minute.quoteVolume;
    this.askVolume += minute.askVolume;
    this.bidVolume += minute.bidVolume;
  }

  addAggregate(a: Aggregate): void {
    if (a.count === 0) return;
    if (this.count === 0) {
      this.open = a.open;
      this.high = a.high;
      this.low = a.low;
    } else {
      if (a.high > this.high) this.high = a.high;
      if (a.low < this.low) this.low = a.low;
    }
    this.close = a.close;
    this.lastMs = a.lastMs;
    this.count += a.count;
    this.volume += a.volume;
    this.quoteVolume += a.quoteVolume;
    this.askVolume += a.askVolume;
    this.bidVolume += a.bidVolume;
  }

  snapshot(): Aggregate {
    return {
      count: this.count,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      quoteVolume: this.quoteVolume,
      lastMs: this.lastMs,
      askVolume: this.askVolume,
      bidVolume: this.bidVolume,
    };
  }

  toCandle(timeMs: number): SimCandle {
    return {
      timeMs,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      quoteVolume: this.quoteVolume,
      lastTradeMs: this.lastMs,
      tradeCount: this.count,
    };
  }
}

/** Map-backed LRU with a fixed maximum number of entries. */
class LruCache<V> {
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

// ---------------------------------------------------------------------------------------------
// Per-market price and trade model

/** Interval bounds of the reference log-price, filled by `boundLogPrice` (no allocation per call). */
let boundHigh = 0;
let boundLow = 0;
/** Extremes of one octave over an interval, filled by `octaveRange`. */
let rangeMax = 0;
let rangeMin = 0;
/**
 * Poisson CDF of the trade count per minute, for one (market, hour) at a time: scans stay within
 * a market, so one shared table serves them (and 5,000 markets do not need 5,000 tables).
 */
const countCdf = new Float64Array(MAX_TRADES_PER_MINUTE + 1);
/** Guide table: entry g is the smallest n with cdf[n] > g / COUNT_GUIDE_SIZE, so a lookup scans a step or two. */
const COUNT_GUIDE_SIZE = 64;
const countGuide = new Int32Array(COUNT_GUIDE_SIZE);
/** Size, hour and owner of the table, as fields (module `let` doubles cost an allocation per write). */
const countTable = { size: 0, hour: -1, owner: -1 };
let nextModelId = 0;

class MarketModel {
  /** Identity for the shared count table. */
  readonly id = nextModelId++;
  readonly key: number;
  readonly tick: number;
  /** 1 / tick for decimal ticks (an exact integer), 0 for ticks >= 1. */
  readonly inverseTick: number;
  /** 1 / tick as a float, for ticks >= 1 (multiplying is cheaper than dividing). */
  readonly tickReciprocal: number;
  readonly logReference: number;
  readonly amplitudes = new Float64Array(OCTAVES);
  readonly noise: number;
  /** Taker lean per relative move: 40 / noise (see the per-trade path's bias). */
  readonly biasScale: number;
  readonly medianNotional: number;
  readonly listedMinute: number;
  private readonly latticeKeys = new Int32Array(OCTAVES);
  private readonly countKey: number;
  private readonly tradesKey: number;
  // Grid point, value pairs; allocated on first use (most of a large universe is never asked for).
  private gridCache: Float64Array | undefined;
  // Reference prices of two grid cells (see `fillPriceBlock`); allocated on first use too.
  private blockPrices: Float64Array | undefined;
  private readonly blockGrids = [-1, -1];

  constructor(
    readonly market: SimMarket,
    readonly ordinal: number,
    seed: number,
  ) {
    this.key = mix32(hashString(market.code) ^ mix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d)));
    this.tick = market.tickSize;
    for (let k = 0; k < OCTAVES; k++) this.latticeKeys[k] = hash3(this.key, SALT_LATTICE, k);
    this.countKey = hash3(this.key, SALT_COUNT, 0);
    this.tradesKey = hash3(this.key, SALT_TRADES, 0);
    this.inverseTick = market.tickSize < 1 ? Math.round(1 / market.tickSize) : 0;
    this.tickReciprocal = 1 / market.tickSize;
    this.logReference = Math.log(market.referencePrice);
    // Each market gets its own temperament, 0.6 .. 1.1 times the base volatility; thin markets swing more.
    const temperament =
      (0.6 + 0.5 * (hash3(this.key, SALT_ACTIVITY, 0xffff) / 4294967296)) *
      (market.tradesPerMinute < THIN_MARKET_TRADES_PER_MINUTE ? THIN_MARKET_VOLATILITY : 1);
    const unit = LOG_AMPLITUDE_UNIT * temperament;
    for (let k = 0; k < OCTAVES; k++) this.amplitudes[k] = unit * Math.sqrt(OCTAVE_PERIODS[k]!);
    this.noise = unit * INTRA_MINUTE_NOISE;
    this.biasScale = 40 / this.noise;
    this.medianNotional =
      (MEDIAN_NOTIONAL_KRW * Math.pow(1 + market.tradesPerMinute, NOTIONAL_LIQUIDITY_EXPONENT)) / KRW_PER_QUOTE[market.quote];
    this.listedMinute = Math.floor(market.listedAtMs / MINUTE_MS);
  }

  ceilTick(price: number): number {
    const p = this.inverseTick === 0 ? Math.ceil(price * this.tickReciprocal) * this.tick : Math.ceil(price * this.inverseTick) / this.inverseTick;
    return p < this.tick ? this.tick : p;
  }

  floorTick(price: number): number {
    const p = this.inverseTick === 0 ? Math.floor(price * this.tickReciprocal) * this.tick : Math.floor(price * this.inverseTick) / this.inverseTick;
    return p < this.tick ? this.tick : p;
  }

  /** Integer number of ticks in a price that lies on the tick. */
  ticksOf(price: number): number {
    return this.inverseTick === 0 ? Math.round(price / this.tick) : Math.round(price * this.inverseTick);
  }

  priceOfTicks(ticks: number): number {
    return this.inverseTick === 0 ? ticks * this.tick : ticks / this.inverseTick;
  }

  private lattice(k: number, cell: number): number {
    return hashIndex(this.latticeKeys[k]!, cell) * LATTICE_SCALE - 1;
  }

  /** Octave `k`'s noise at boundary `m`: smoothstep between hashed lattice values. */
  private octaveAt(k: number, m: number): number {
    // Periods are powers of two: the shift, mask and reciprocal are exact, like a division.
    const cell = m >> k;
    const h0 = this.lattice(k, cell);
    const h1 = this.lattice(k, cell + 1);
    return h0 + (h1 - h0) * smoothstep((m & ((1 << k) - 1)) * OCTAVE_RECIPROCALS[k]!);
  }

  /** Sum of the long octaves at grid point `grid` (boundary `grid × LONG_GRID_MINUTES`), cached. */
  private longSumAtGrid(grid: number): number {
    const cache = (this.gridCache ??= new Float64Array(2 * GRID_CACHE_SLOTS).fill(-1));
    const slot = 2 * (grid & (GRID_CACHE_SLOTS - 1));
    if (cache[slot] === grid) return cache[slot + 1]!;
    const m = grid * LONG_GRID_MINUTES;
    let sum = 0;
    for (let k = SHORT_OCTAVES; k < OCTAVES; k++) sum += this.amplitudes[k]! * this.octaveAt(k, m);
    cache[slot] = grid;
    cache[slot + 1] = sum;
    return sum;
  }

  /**
   * Reference prices at the LONG_GRID_MINUTES minute boundaries of grid cell `grid` into block
   * `slot`: log-price = the short octaves exactly, plus the long octaves' sum interpolated
   * linearly between grid points (it barely bends within a grid cell). A whole cell at a time,
   * octave by octave: scans are sequential, and a tight loop per octave is several times cheaper
   * than evaluating every boundary on its own.
   */
  private fillPriceBlock(grid: number, slot: number): void {
    const prices = (this.blockPrices ??= new Float64Array(2 * LONG_GRID_MINUTES));
    const offset = slot << LONG_GRID_SHIFT;
    const end = offset + LONG_GRID_MINUTES;
    const first = grid << LONG_GRID_SHIFT;
    prices.fill(this.logReference, offset, end);
    for (let k = 0; k < SHORT_OCTAVES; k++) {
      const period = 1 << k;
      const amplitude = this.amplitudes[k]!;
      const table = k << SHORT_SMOOTHSTEP_SHIFT;
      let cell = first >> k;
      let h1 = this.lattice(k, cell);
      for (let start = offset; start < end; start += period, cell++) {
        const h0 = h1;
        h1 = this.lattice(k, cell + 1);
        for (let j = 0; j < period; j++) prices[start + j] = prices[start + j]! + amplitude * (h0 + (h1 - h0) * SHORT_SMOOTHSTEP[table + j]!);
      }
    }
    const longLow = this.longSumAtGrid(grid);
    const longHigh = this.longSumAtGrid(grid + 1);
    for (let j = 0; j < LONG_GRID_MINUTES; j++) {
      prices[offset + j] = Math.exp(prices[offset + j]! + (longLow + (longHigh - longLow) * (j / LONG_GRID_MINUTES)));
    }
    this.blockGrids[slot] = grid;
  }

  /**
   * Bounds of the reference log-price over minute boundaries [ma, mb] into `boundHigh` and
   * `boundLow`. Per octave, smoothstep interpolation is monotone between lattice points, so its
   * extremes are at the ends or at lattice points inside; the long octaves are only used at grid
   * points, so they are bounded over the grid cells covering the interval.
   */
  boundLogPrice(ma: number, mb: number): void {
    let high = this.logReference;
    let low = this.logReference;
    for (let k = 0; k < SHORT_OCTAVES; k++) {
      this.octaveRange(k, ma, mb);
      high += this.amplitudes[k]! * rangeMax;
      low += this.amplitudes[k]! * rangeMin;
    }
    const ga = Math.floor(ma / LONG_GRID_MINUTES);
    const gb = Math.ceil(mb / LONG_GRID_MINUTES);
    let longHigh = -Infinity;
    let longLow = Infinity;
    if (gb - ga < EXACT_GRID_POINTS) {
      // Few grid points: the long part's exact extremes (cached values the price path uses too).
      for (let g = ga; g <= gb; g++) {
        const v = this.longSumAtGrid(g);
        if (v > longHigh) longHigh = v;
        if (v < longLow) longLow = v;
      }
    } else {
      longHigh = 0;
      longLow = 0;
      for (let k = SHORT_OCTAVES; k < OCTAVES; k++) {
        this.octaveRange(k, ga * LONG_GRID_MINUTES, gb * LONG_GRID_MINUTES);
        longHigh += this.amplitudes[k]! * rangeMax;
        longLow += this.amplitudes[k]! * rangeMin;
      }
    }
    boundHigh = high + longHigh;
    boundLow = low + longLow;
  }

  /** Extremes of octave `k` over boundaries [ma, mb] into `rangeMax` / `rangeMin`. */
  private octaveRange(k: number, ma: number, mb: number): void {
    const firstCell = ma >> k;
    const lastCell = mb >> k;
    if (lastCell - firstCell > MAX_LATTICE_SCAN) {
      rangeMax = 1;
      rangeMin = -1;
      return;
    }
    const va = this.octaveAt(k, ma);
    const vb = this.octaveAt(k, mb);
    let max = va > vb ? va : vb;
    let min = va > vb ? vb : va;
    for (let cell = firstCell + 1; cell <= lastCell; cell++) {
      const v = this.lattice(k, cell);
      if (v > max) max = v;
      if (v < min) min = v;
    }
    rangeMax = max;
    rangeMin = min;
  }

  /** Highest trade price possible with the reference log-price at most `logHigh`. */
  priceCeiling(logHigh: number): number {
    return this.ceilTick(Math.exp(logHigh) * (1 + this.noise) * (1 + BOUND_EPSILON));
  }

  /** Lowest trade price possible with the reference log-price at least `logLow`. */
  priceFloor(logLow: number): number {
    return this.floorTick(Math.exp(logLow) * (1 - this.noise) * (1 - BOUND_EPSILON));
  }

  /** Reference price at minute boundary `m` (minutes since the epoch; they fit 31 bits). */
  priceAt(m: number): number {
    const grid = m >> LONG_GRID_SHIFT;
    // Two blocks, by parity: a minute's end may lie in the next cell, and scans go both ways.
    const slot = grid & 1;
    if (this.blockGrids[slot] !== grid) this.fillPriceBlock(grid, slot);
    return this.blockPrices![(slot << LONG_GRID_SHIFT) + (m & (LONG_GRID_MINUTES - 1))]!;
  }

  /** Number of trades in minute `m` (before clipping to the listing time and now). */
  tradeCount(m: number): number {
    const hour = Math.floor(m / MINUTES_PER_HOUR);
    if (hour !== countTable.hour || this.id !== countTable.owner) this.buildCountCdf(hour);
    const u = hashIndex(this.countKey, m) * INV_2_32;
    const cdf = countCdf;
    // The smallest n with u < cdf[n] (capped at the table's end).
    let n = countGuide[Math.floor(u * COUNT_GUIDE_SIZE)]!;
    const last = countTable.size - 1;
    while (n < last && u >= cdf[n]!) n++;
    return n;
  }

  /** Poisson CDF for the hour's rate: time-of-day profile × hourly activity × the market's mean. */
  private buildCountCdf(hour: number): void {
    const u = hash3(this.key, SALT_ACTIVITY, hour) / 4294967296;
    const rate = this.market.tradesPerMinute * HOURLY_PROFILE[hour % HOURS_PER_DAY]! * (ACTIVITY_BASE + ACTIVITY_SPREAD * u * u);
    const cdf = countCdf;
    let p = Math.exp(-rate);
    let sum = p;
    let n = 0;
    cdf[0] = sum;
    while (n < MAX_TRADES_PER_MINUTE && (n < rate || 1 - sum > 1e-13)) {
      n++;
      p *= rate / n;
      sum += p;
      cdf[n] = sum;
    }
    countTable.size = n + 1;
    countTable.hour = hour;
    countTable.owner = this.id;
    let guided = 0;
    for (let g = 0; g < COUNT_GUIDE_SIZE; g++) {
      while (guided < n && cdf[guided]! <= g / COUNT_GUIDE_SIZE) guided++;
      countGuide[g] = guided;
    }
  }

  /**
   * Generates minute `m`'s trades (ascending) and returns how many; `count` must be
   * `tradeCount(m)`. The minute's totals always land in `minute`; the trades themselves only
   * with `record` (the scratch buffers), which aggregate-only callers skip (O(1) for busy minutes).
   */
  generateMinute(m: number, count: number, record = true): number {
    if (count === 0) return 0;
    if (count >= STRUCTURED_MIN_TRADES) {
      if (record) this.generateStructured(m, count);
      else this.structuredAggregate(m, count);
      return count;
    }
    return this.generateSparse(m, count, record);
  }

  /** Ticks of a price rounded to the nearest tick (at least one tick). */
  private roundTicks(price: number): number {
    const t = this.inverseTick === 0 ? Math.round(price * this.tickReciprocal) : Math.round(price * this.inverseTick);
    return t < 1 ? 1 : t;
  }

  private ceilTicks(price: number): number {
    const t = this.inverseTick === 0 ? Math.ceil(price * this.tickReciprocal) : Math.ceil(price * this.inverseTick);
    return t < 1 ? 1 : t;
  }

  private floorTicks(price: number): number {
    const t = this.inverseTick === 0 ? Math.floor(price * this.tickReciprocal) : Math.floor(price * this.inverseTick);
    return t < 1 ? 1 : t;
  }

  /**
   * The aggregate of structured minute `m` with `count` (>= STRUCTURED_MIN_TRADES) trades, in
   * O(1): into `minute` and the `struct*` parameters `generateStructured` lays the trades out
   * from. Open and close sit on the reference path with noise, the high and low beyond them
   * within the noise band (so the path's price bounds hold), the volume is a sum-of-sizes draw,
   * and the turnover is fixed at volume × the middle of [low, high]: the main flow, trading at
   * two adjacent ticks, absorbs whatever the counter flow leaves (see `generateStructured`).
   */
  structuredAggregate(m: number, count: number): void {
    const p0 = this.priceAt(m);
    const p1 = this.priceAt(m + 1);
    const noise = this.noise;
    const h1 = hashIndex(this.tradesKey, m);
    const h2 = mix32(h1 ^ 0x68e31da4);
    const h3 = mix32(h2 ^ 0x1b56c4e9);
    const h4 = mix32(h3 ^ 0x5c4d9f21);
    // Triangular noise on [-1, 1] for open and close, as the per-trade path uses.
    const zOpen = ((h1 & 0xff) + ((h1 >>> 8) & 0xff) - 255) * INV_255;
    const zClose = (((h1 >>> 16) & 0xff) + (h1 >>> 24) - 255) * INV_255;
    const open = this.roundTicks(p0 * (1 + noise * zOpen));
    const close = this.roundTicks(p1 * (1 + noise * zClose));
    let high = this.ceilTicks((p0 > p1 ? p0 : p1) * (1 + noise * (h2 & 0xffff) * INV_2_16));
    let low = this.floorTicks((p0 > p1 ? p1 : p0) * (1 - noise * (h2 >>> 16) * INV_2_16));
    if (open > high) high = open;
    if (close > high) high = close;
    if (open < low) low = open;
    if (close < low) low = close;

    const inverseP0 = 1 / p0;
    const notionalUnits = this.medianNotional * VOLUME_DECIMALS_SCALE * inverseP0;
    // A sum of `count` sizes: mean count × the mean size, relative spread shrinking like 1 / sqrt(count).
    const spread = (NOTIONAL_FACTORS[h3 & (NOTIONAL_TABLE_SIZE - 1)]! - NOTIONAL_MEAN) * INV_SQRT_COUNT[count]!;
    let volume = Math.round(notionalUnits * count * (NOTIONAL_MEAN + spread));
    if (volume < MIN_UNITS_PER_TRADE * count) volume = MIN_UNITS_PER_TRADE * count;
    // Main flow: half the scattered trades, at least two (one per tick level).
    const mainCount = Math.max(2, (count - 3) >> 1);
    const counterCount = count - mainCount;
    let counter = Math.floor(volume * (COUNTER_SHARE_MIN + COUNTER_SHARE_SPREAD * ((h3 >>> 10) & 0xff) * INV_255));
    const counterMax = Math.floor(volume / 2) - 1;
    if (counter > counterMax) counter = counterMax;
    if (counter < counterCount) counter = counterCount;
    const turnover = volume * low + Math.floor((volume * (high - low)) / 2);

    // The main flow leans with the move: buyers while the price rises.
    let bias = (p1 - p0) * inverseP0 * this.biasScale;
    if (bias > 48) bias = 48;
    else if (bias < -48) bias = -48;
    const mainBid = ((h3 >>> 18) & 0xff) < 128 + bias;
    const slotMs = MINUTE_MS * INVERSE_COUNT[count]!;
    const baseMs = m * MINUTE_MS;

    struct.openTicks = open;
    struct.closeTicks = close;
    struct.highTicks = high;
    struct.lowTicks = low;
    struct.volumeUnits = volume;
    struct.counterUnits = counter;
    struct.turnoverUnits = turnover;
    struct.mainCount = mainCount;
    struct.mainBid = mainBid;
    struct.firstMs = baseMs + Math.floor((h4 & 0xffff) * INV_2_16 * slotMs);
    struct.layoutSeed = mix32(h4 ^ 0x2545f491) | 0;

    minute.open = this.priceOfTicks(open);
    minute.close = this.priceOfTicks(close);
    minute.high = this.priceOfTicks(high);
    minute.low = this.priceOfTicks(low);
    minute.lastMs = baseMs + MINUTE_MS - 1 - Math.floor((h4 >>> 16) * INV_2_16 * slotMs);
    minute.volume = volume / VOLUME_DECIMALS_SCALE;
    minute.quoteVolume = this.turnoverOfUnits(turnover);
    const mainVolume = (volume - counter) / VOLUME_DECIMALS_SCALE;
    const counterVolume = counter / VOLUME_DECIMALS_SCALE;
    minute.bidVolume = mainBid ? mainVolume : counterVolume;
    minute.askVolume = mainBid ? counterVolume : mainVolume;
  }

  /** Quote value of a ticks × 1e-8 units sum. */
  private turnoverOfUnits(units: number): number {
    return this.inverseTick === 0 ? (units * this.tick) / VOLUME_DECIMALS_SCALE : units / this.inverseTick / VOLUME_DECIMALS_SCALE;
  }

  /**
   * Lays out structured minute `m`'s trades into the scratch buffers, consistent with
   * `structuredAggregate` (which it runs first): the first trade at the open, the last at the
   * close, one at the high and one at the low, the counter flow scattered along the path within
   * [low, high] and the main flow at ticks q and q + 1. Volumes are whole 1e-8 units split by
   * lognormal weights so each flow sums exactly to its share; the main flow's split between its
   * two ticks then makes sum(ticks × units) equal the turnover (possible since it carries more
   * than half the volume and the turnover is volume × the middle of the range).
   */
  private generateStructured(m: number, count: number): void {
    this.structuredAggregate(m, count);
    const high = struct.highTicks;
    const low = struct.lowTicks;
    const mainCount = struct.mainCount;
    const lastMs = minute.lastMs;
    const times = tradeTimes;
    const prices = tradePrices;
    const volumes = tradeVolumeUnits;
    const sides = tradeSides;
    const seqs = tradeSeqs;
    const roles = tradeRoles;
    const weights = tradeWeights;
    rngState = struct.layoutSeed;

    // Roles: the high and low trades at two distinct middle places, the main flow among the rest.
    const last = count - 1;
    const highAt = 1 + (nextRandom() % (count - 2));
    let lowAt = 1 + (nextRandom() % (count - 3));
    if (lowAt >= highAt) lowAt++;
    let mainLeft = mainCount;
    let placesLeft = count - 4;
    roles[0] = ROLE_COUNTER;
    roles[last] = ROLE_COUNTER;
    for (let i = 1; i < last; i++) {
      if (i === highAt || i === lowAt) {
        roles[i] = ROLE_COUNTER;
        continue;
      }
      // Selection sampling: exactly `mainCount` places, uniformly.
      if (nextRandom() * INV_2_32 * placesLeft < mainLeft) {
        roles[i] = ROLE_MAIN_LOW;
        mainLeft--;
      } else roles[i] = ROLE_COUNTER;
      placesLeft--;
    }

    // Times: one per slot of the minute, ascending, some continuing the previous taker order (same flow, same side).
    const slotMs = MINUTE_MS / count;
    const baseMs = m * MINUTE_MS;
    times[0] = struct.firstMs;
    for (let i = 1; i < last; i++) {
      const r = nextRandom();
      const continues = (r & 0xff) < CLUSTER_CONTINUE_OF_256 && roles[i] === roles[i - 1];
      const ms = continues ? times[i - 1]! : baseMs + Math.floor((i + (r >>> 16) * INV_2_16) * slotMs);
      // Slots keep these ascending and before the close; the clamps only guard rounding.
      times[i] = ms < times[i - 1]! ? times[i - 1]! : ms > lastMs ? lastMs : ms;
    }
    times[last] = lastMs;
    for (let i = 0; i < count; i++) seqs[i] = i > 0 && times[i] === times[i - 1] ? seqs[i - 1]! + 1 : 0;

    // Counter-flow prices: open, close, high, low, the rest a bounded walk around the path.
    const p0 = this.priceAt(m);
    const slopePerMs = (this.priceAt(m + 1) - p0) / MINUTE_MS;
    const noise = this.noise;
    let z = 0;
    let counterWeight = 0;
    for (let i = 0; i < count; i++) {
      const r = nextRandom();
      weights[i] = NOTIONAL_FACTORS[r & (NOTIONAL_TABLE_SIZE - 1)]!;
      if (roles[i] !== ROLE_COUNTER) continue;
      counterWeight += weights[i]!;
      let t: number;
      if (i === 0) t = struct.openTicks;
      else if (i === last) t = struct.closeTicks;
      else if (i === highAt) t = high;
      else if (i === lowAt) t = low;
      else {
        const u = (((r >>> 10) & 0xff) + ((r >>> 18) & 0xff) - 255) * INV_255;
        z = INTRA_MINUTE_PERSISTENCE * z + (1 - INTRA_MINUTE_PERSISTENCE) * u;
        t = this.roundTicks((p0 + slopePerMs * (times[i]! - baseMs)) * (1 + noise * z));
        if (t > high) t = high;
        if (t < low) t = low;
      }
      prices[i] = t;
    }

    // Counter-flow volumes: one unit each plus a weighted share of the rest, summing exactly.
    const counterSpare = struct.counterUnits - (count - mainCount);
    let cumWeight = 0;
    let cumUnits = 0;
    let counterTurnover = 0;
    for (let i = 0; i < count; i++) {
      if (roles[i] !== ROLE_COUNTER) continue;
      cumWeight += weights[i]!;
      const units = i === last ? counterSpare : Math.floor((counterSpare * cumWeight) / counterWeight);
      volumes[i] = 1 + units - cumUnits;
      cumUnits = units;
      counterTurnover += prices[i]! * volumes[i]!;
    }

    // Main flow: `lowUnits` at tick q and `highUnits` at q + 1 hit the turnover exactly.
    const mainUnits = struct.volumeUnits - struct.counterUnits;
    const rest = struct.turnoverUnits - counterTurnover;
    let q = Math.floor(rest / mainUnits);
    if (q > high - 1) q = high - 1;
    if (q < low) q = low;
    let highUnits = Math.round(rest - q * mainUnits);
    if (highUnits < 0) highUnits = 0;
    if (highUnits > mainUnits) highUnits = mainUnits;
    const lowUnits = mainUnits - highUnits;
    // Trades per tick level: in proportion, each with at least one unit, none on an empty level.
    let lowCount: number;
    if (highUnits === 0) lowCount = mainCount;
    else if (lowUnits === 0) lowCount = 0;
    else {
      lowCount = Math.round((mainCount * lowUnits) / mainUnits);
      lowCount = Math.max(lowCount, 1, mainCount - highUnits);
      lowCount = Math.min(lowCount, lowUnits, mainCount - 1);
    }
    let lowLeft = lowCount;
    let mainPlacesLeft = mainCount;
    let lowWeight = 0;
    let highWeight = 0;
    for (let i = 1; i < last; i++) {
      if (roles[i] === ROLE_COUNTER) continue;
      if (nextRandom() * INV_2_32 * mainPlacesLeft < lowLeft) {
        lowLeft--;
        lowWeight += weights[i]!;
      } else {
        roles[i] = ROLE_MAIN_HIGH;
        highWeight += weights[i]!;
      }
      mainPlacesLeft--;
    }
    const lowSpare = lowUnits - lowCount;
    const highSpare = highUnits - (mainCount - lowCount);
    let lowCum = 0;
    let highCum = 0;
    let lowDone = 0;
    let highDone = 0;
    let lowSeen = 0;
    let highSeen = 0;
    for (let i = 1; i < last; i++) {
      const role = roles[i];
      if (role === ROLE_COUNTER) continue;
      let units: number;
      if (role === ROLE_MAIN_LOW) {
        lowCum += weights[i]!;
        lowSeen++;
        units = lowSeen === lowCount ? lowSpare : Math.floor((lowSpare * lowCum) / lowWeight);
        volumes[i] = 1 + units - lowDone;
        lowDone = units;
        prices[i] = q;
      } else {
        highCum += weights[i]!;
        highSeen++;
        units = highSeen === mainCount - lowCount ? highSpare : Math.floor((highSpare * highCum) / highWeight);
        volumes[i] = 1 + units - highDone;
        highDone = units;
        prices[i] = q + 1;
      }
    }

    // Sides by flow; prices from ticks.
    const mainSide = struct.mainBid ? SIDE_BID : SIDE_ASK;
    const counterSide = struct.mainBid ? SIDE_ASK : SIDE_BID;
    for (let i = 0; i < count; i++) {
      sides[i] = roles[i] === ROLE_COUNTER ? counterSide : mainSide;
      prices[i] = this.priceOfTicks(prices[i]!);
    }
  }

  /** Trade by trade, for minutes with fewer than STRUCTURED_MIN_TRADES trades. */
  private generateSparse(m: number, count: number, record: boolean): number {
    const p0 = this.priceAt(m);
    const p1 = this.priceAt(m + 1);
    const slope = p1 - p0;
    const noise = this.noise;
    const tick = this.tick;
    const inverseTick = this.inverseTick;
    const tickReciprocal = this.tickReciprocal;
    // Sizes use the minute's opening price (a fraction of a percent off): no division per trade.
    const inverseP0 = 1 / p0;
    const notionalUnits = this.medianNotional * VOLUME_DECIMALS_SCALE * inverseP0;
    // Takers lean with the move: more buys while the price rises.
    const bias = Math.max(-48, Math.min(48, (slope / p0 / noise) * 40));
    const bidThreshold = 128 + bias;
    const slotMs = MINUTE_MS / count;
    const slopePerMs = slope / MINUTE_MS;
    const baseMs = m * MINUTE_MS;
    const times = tradeTimes;
    const prices = tradePrices;
    const volumes = tradeVolumeUnits;
    const sides = tradeSides;
    const seqs = tradeSeqs;
    // mulberry32, inlined: this loop is the simulator's hottest.
    let state = hashIndex(this.tradesKey, m) | 0;
    let z = 0;
    let prevMs = -1;
    let prevSide = SIDE_BID;
    let prevPrice = 0;
    let seq = 0;
    let high = -Infinity;
    let low = Infinity;
    let volumeSum = 0;
    let quoteSum = 0;
    let bidSum = 0;
    let askSum = 0;
    let firstPrice = 0;
    for (let i = 0; i < count; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const r1 = (t ^ (t >>> 14)) >>> 0;
      let ms: number;
      let side: number;
      let price: number;
      let sizeBits: number;
      if (i > 0 && (r1 & 0xff) < CLUSTER_CONTINUE_OF_256) {
        ms = prevMs;
        side = prevSide;
        price = prevPrice;
        seq++;
        sizeBits = (r1 >>> 8) & (NOTIONAL_TABLE_SIZE - 1);
      } else {
        const offset = Math.floor((i + ((r1 >>> 8) & 0xffff) * INV_2_16) * slotMs);
        ms = baseMs + offset;
        seq = ms === prevMs ? seq + 1 : 0;
        state = (state + 0x6d2b79f5) | 0;
        t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        const r2 = (t ^ (t >>> 14)) >>> 0;
        // Triangular on [-1, 1]; the persistent mix stays within [-1, 1], which the price bounds rely on.
        const u = ((r2 & 0xff) + ((r2 >>> 8) & 0xff) - 255) * INV_255;
        z = prevMs < 0 ? u : INTRA_MINUTE_PERSISTENCE * z + (1 - INTRA_MINUTE_PERSISTENCE) * u;
        const mid = (p0 + slopePerMs * offset) * (1 + noise * z);
        side = ((r2 >>> 16) & 0xff) < bidThreshold ? SIDE_BID : SIDE_ASK;
        sizeBits = ((r1 >>> 24) << 2) | (r2 >>> 30);
        if (inverseTick === 0) price = side === SIDE_BID ? Math.ceil(mid * tickReciprocal) * tick : Math.floor(mid * tickReciprocal) * tick;
        else price = side === SIDE_BID ? Math.ceil(mid * inverseTick) / inverseTick : Math.floor(mid * inverseTick) / inverseTick;
        if (price < tick) price = tick;
      }
      const rounded = Math.round(notionalUnits * NOTIONAL_FACTORS[sizeBits]!);
      const volume = rounded < 1 ? 1 : rounded;
      if (record) {
        times[i] = ms;
        prices[i] = price;
        volumes[i] = volume;
        sides[i] = side;
        seqs[i] = seq;
      }
      if (i === 0) firstPrice = price;
      prevMs = ms;
      prevSide = side;
      prevPrice = price;
      if (price > high) high = price;
      if (price < low) low = price;
      volumeSum += volume;
      quoteSum += price * volume;
      if (side === SIDE_BID) bidSum += volume;
      else askSum += volume;
    }
    minute.high = high;
    minute.low = low;
    minute.lastMs = prevMs;
    minute.close = prevPrice;
    minute.open = firstPrice;
    minute.volume = volumeSum / VOLUME_DECIMALS_SCALE;
    minute.quoteVolume = quoteSum / VOLUME_DECIMALS_SCALE;
    minute.bidVolume = bidSum / VOLUME_DECIMALS_SCALE;
    minute.askVolume = askSum / VOLUME_DECIMALS_SCALE;
    return count;
  }

  /** Adds all trades of minutes [first, end) to `acc`; the aggregate runs in locals (the day-cache hot path). */
  addWholeMinutes(first: number, end: number, acc: Accumulator): void {
    let count = 0;
    let open = 0;
    let high = -Infinity;
    let low = Infinity;
    let close = 0;
    let volume = 0;
    let quoteVolume = 0;
    let lastMs = 0;
    let bidVolume = 0;
    let askVolume = 0;
    for (let m = first; m < end; m++) {
      const n = this.generateMinute(m, this.tradeCount(m), false);
      if (n === 0) continue;
      if (count === 0) open = minute.open;
      if (minute.high > high) high = minute.high;
      if (minute.low < low) low = minute.low;
      volume += minute.volume;
      quoteVolume += minute.quoteVolume;
      bidVolume += minute.bidVolume;
      askVolume += minute.askVolume;
      count += n;
      close = minute.close;
      lastMs = minute.lastMs;
    }
    if (count > 0) {
      acc.addAggregate({ count, open, high, low, close, volume, quoteVolume, lastMs, askVolume, bidVolume });
    }
  }

  /** Adds minute `m`'s trades with `fromMs <= time < toMs` to `acc`. */
  addMinute(m: number, fromMs: number, toMs: number, acc: Accumulator): void {
    const n = this.generateMinute(m, this.tradeCount(m));
    for (let i = 0; i < n; i++) {
      const ms = tradeTimes[i]!;
      if (ms >= fromMs && ms < toMs) acc.addTrade(ms, tradePrices[i]!, tradeVolumeUnits[i]! / VOLUME_DECIMALS_SCALE, tradeSides[i]!);
    }
  }

  /** Highest (sign 1) or lowest (sign -1) price of minute `m`'s trades at or after `fromMs`, × sign; -Infinity if none. */
  minuteExtreme(m: number, fromMs: number, sign: number): number {
    const count = this.tradeCount(m);
    if (count === 0) return -Infinity;
    if (fromMs <= m * MINUTE_MS) {
      this.generateMinute(m, count, false);
      return sign > 0 ? minute.high : -minute.low;
    }
    const n = this.generateMinute(m, count);
    let best = -Infinity;
    for (let i = 0; i < n; i++) {
      if (tradeTimes[i]! >= fromMs && tradePrices[i]! * sign > best) best = tradePrices[i]! * sign;
    }
    return best;
  }

  /** Upper bound of price × sign over minute `m`'s trades. */
  minuteBound(m: number, sign: number): number {
    const p0 = this.priceAt(m);
    const p1 = this.priceAt(m + 1);
    if (sign > 0) return this.ceilTick(Math.max(p0, p1) * (1 + this.noise) * (1 + BOUND_EPSILON));
    return -this.floorTick(Math.min(p0, p1) * (1 - this.noise) * (1 - BOUND_EPSILON));
  }
}

// ---------------------------------------------------------------------------------------------
// Branch and bound over price bounds (52-week high and low)

const LEVEL_BLOCK = 0;
const LEVEL_DAY = 1;
const LEVEL_HOUR = 2;
const LEVEL_MINUTE = 3;
/** Days per top-level node: a coarse bound first, so most of the year is never looked at closely. */
const DAYS_PER_BLOCK = 7;

interface SearchNode {
  /** Upper bound of price × sign inside the node. */
  readonly bound: number;
  /** Latest day the node covers (ties go to the later day). */
  readonly day: number;
  readonly startMinute: number;
  readonly minutes: number;
  readonly level: number;
}

/** Binary max-heap by (bound, day): ties go to the later day, which wins ties in the result. */
class NodeHeap {
  private readonly items: SearchNode[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): SearchNode | undefined {
    return this.items[0];
  }
  private above(a: SearchNode, b: SearchNode): boolean {
    return a.bound > b.bound || (a.bound === b.bound && a.day > b.day);
  }
  push(node: SearchNode): void {
    const items = this.items;
    items.push(node);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): SearchNode | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.above(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.above(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

interface Extremes {
  readonly high: number;
  readonly highDay: number;
  readonly low: number;
  readonly lowDay: number;
}

// ---------------------------------------------------------------------------------------------
// The exchange

class Exchange implements SyntheticExchange {
  readonly markets: readonly SimMarket[];
  private readonly models = new Map<string, MarketModel>();
  private readonly now: () => number;
  private readonly dayCache = new LruCache<Aggregate>(DAY_CACHE_MAX_ENTRIES);
  private readonly hourCache = new LruCache<Aggregate>(HOUR_CACHE_MAX_ENTRIES);
  private readonly extremesCache = new LruCache<Extremes | null>(EXTREMES_CACHE_MAX_ENTRIES);
  // Separate accumulators per aggregation level: a range sum may compute a day or hour on the way.
  private readonly rangeAcc = new Accumulator();
  private readonly dayAcc = new Accumulator();
  private readonly hourAcc = new Accumulator();
  private readonly bucketAcc = new Accumulator();

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

  candles(code: string, tf: Timeframe, toMs: number, count: number): SimCandle[] {
    const model = this.model(code);
    const out: SimCandle[] = [];
    const nowMs = this.now();
    const listedAtMs = model.market.listedAtMs;
    const latest = Math.min(toMs - 1, nowMs);
    if (count <= 0 || latest < listedAtMs) return out;
    if (tf === "1s") return this.secondCandles(model, latest, nowMs, count);
    if (tf === "1m") return this.minuteCandles(model, latest, nowMs, count);
    const acc = this.bucketAcc;
    const first = bucketIndex(tf, listedAtMs);
    for (let index = bucketIndex(tf, latest); index >= first && out.length < count; index--) {
      const start = bucketTimeOfIndex(tf, index);
      this.aggregateRange(model, start, bucketTimeOfIndex(tf, index + 1), nowMs, acc.reset());
      if (acc.count > 0) out.push(acc.toCandle(start));
    }
    return out;
  }

  private minuteCandles(model: MarketModel, latest: number, nowMs: number, count: number): SimCandle[] {
    const out: SimCandle[] = [];
    const acc = this.bucketAcc;
    const listedAtMs = model.market.listedAtMs;
    for (let m = Math.floor(latest / MINUTE_MS); m >= model.listedMinute && out.length < count; m--) {
      const n = model.tradeCount(m);
      if (n === 0) continue;
      const start = m * MINUTE_MS;
      acc.reset();
      // Whole minutes from their aggregate; only a minute cut by the listing or by now needs its trades.
      if (start >= listedAtMs && start + MINUTE_MS <= nowMs + 1) acc.addMinuteTotals(model.generateMinute(m, n, false));
      else model.addMinute(m, Math.max(start, listedAtMs), Math.min(start + MINUTE_MS, nowMs + 1), acc);
      if (acc.count > 0) out.push(acc.toCandle(start));
    }
    return out;
  }

  /** Seconds newest first: walk minutes backwards, skipping empty ones with one hash each. */
  private secondCandles(model: MarketModel, latest: number, nowMs: number, count: number): SimCandle[] {
    const out: SimCandle[] = [];
    const acc = this.bucketAcc;
    const listedAtMs = model.market.listedAtMs;
    const lastSecondStart = Math.floor(latest / SECOND_MS) * SECOND_MS;
    for (let m = Math.floor(latest / MINUTE_MS); m >= model.listedMinute && out.length < count; m--) {
      const n = model.generateMinute(m, model.tradeCount(m));
      let i = n - 1;
      // Trades after `now` do not exist yet; seconds after the last wanted one are not asked for.
      while (i >= 0 && (tradeTimes[i]! > nowMs || tradeTimes[i]! >= lastSecondStart + SECOND_MS)) i--;
      while (i >= 0 && out.length < count) {
        const second = Math.floor(tradeTimes[i]! / SECOND_MS) * SECOND_MS;
        let j = i;
        while (j > 0 && tradeTimes[j - 1]! >= second) j--;
        acc.reset();
        for (let t = j; t <= i; t++) {
          if (tradeTimes[t]! >= listedAtMs) acc.addTrade(tradeTimes[t]!, tradePrices[t]!, tradeVolumeUnits[t]! / VOLUME_DECIMALS_SCALE, tradeSides[t]!);
        }
        if (acc.count > 0) out.push(acc.toCandle(second));
        i = j - 1;
      }
    }
    return out;
  }

  /**
   * Adds the trades with `fromMs <= time < toMs` (clipped to the listing time and `now`) to
   * `acc`, using cached day and hour aggregates for whole days and hours.
   */
  private aggregateRange(model: MarketModel, fromMs: number, toMs: number, nowMs: number, acc: Accumulator): void {
    let t = Math.max(fromMs, model.market.listedAtMs);
    const end = Math.min(toMs, nowMs + 1);
    while (t < end) {
      if (t % DAY_MS === 0 && t + DAY_MS <= end) {
        acc.addAggregate(this.dayAggregate(model, t / DAY_MS));
        t += DAY_MS;
      } else if (t % HOUR_MS === 0 && t + HOUR_MS <= end) {
        acc.addAggregate(this.hourAggregate(model, t / HOUR_MS));
        t += HOUR_MS;
      } else {
        const m = Math.floor(t / MINUTE_MS);
        const minuteEnd = Math.min(end, (m + 1) * MINUTE_MS);
        const n = model.tradeCount(m);
        if (n > 0) {
          if (t === m * MINUTE_MS && minuteEnd === t + MINUTE_MS) acc.addMinuteTotals(model.generateMinute(m, n, false));
          else model.addMinute(m, t, minuteEnd, acc);
        }
        t = minuteEnd;
      }
    }
  }

  /** A whole day at or after the listing time (callers ensure it), cached. */
  private dayAggregate(model: MarketModel, day: number): Aggregate {
    const key = model.ordinal * 1e6 + day;
    const cached = this.dayCache.get(key);
    if (cached !== undefined) return cached;
    const acc = this.dayAcc.reset();
    model.addWholeMinutes(day * MINUTES_PER_DAY, (day + 1) * MINUTES_PER_DAY, acc);
    const result = acc.snapshot();
    this.dayCache.set(key, result);
    return result;
  }

  /** A whole hour at or after the listing time (callers ensure it), cached. */
  private hourAggregate(model: MarketModel, hour: number): Aggregate {
    const key = model.ordinal * 1e7 + hour;
    const cached = this.hourCache.get(key);
    if (cached !== undefined) return cached;
    const dayCached = this.dayCache.get(model.ordinal * 1e6 + Math.floor(hour / HOURS_PER_DAY));
    const acc = this.hourAcc.reset();
    if (dayCached === undefined || dayCached.count > 0) {
      model.addWholeMinutes(hour * MINUTES_PER_HOUR, (hour + 1) * MINUTES_PER_HOUR, acc);
    }
    const result = acc.snapshot();
    this.hourCache.set(key, result);
    return result;
  }

  trades(code: string, fromMs: number, toMs: number): SimTrade[] {
    const model = this.model(code);
    const out: SimTrade[] = [];
    const from = Math.max(fromMs, model.market.listedAtMs);
    const end = Math.min(toMs, this.now() + 1);
    if (end <= from) return out;
    for (let m = Math.floor(from / MINUTE_MS); m * MINUTE_MS < end; m++) {
      const n = model.generateMinute(m, model.tradeCount(m));
      for (let i = 0; i < n; i++) {
        const ms = tradeTimes[i]!;
        if (ms >= from && ms < end) out.push(this.tradeAt(model, i));
      }
    }
    return out;
  }

  /** Scratch trade `i` as an object. */
  private tradeAt(model: MarketModel, i: number): SimTrade {
    const ms = tradeTimes[i]!;
    return {
      market: model.market.code,
      timestampMs: ms,
      price: tradePrices[i]!,
      volume: tradeVolumeUnits[i]! / VOLUME_DECIMALS_SCALE,
      askBid: tradeSides[i] === SIDE_BID ? "BID" : "ASK",
      sequentialId: BigInt(ms) * 10000n + BigInt(tradeSeqs[i]!),
    };
  }

  /** The last trade at or before `atMs` (and <= now), or undefined when there is none. */
  private lastTrade(model: MarketModel, atMs: number, nowMs: number): SimTrade | undefined {
    const at = Math.min(atMs, nowMs);
    const listedAtMs = model.market.listedAtMs;
    if (at < listedAtMs) return undefined;
    const atMinute = Math.floor(at / MINUTE_MS);
    const scanFloor = Math.max(model.listedMinute, atMinute - LAST_TRADE_MINUTE_SCAN);
    for (let m = atMinute; m >= scanFloor; m--) {
      const found = this.lastTradeInMinute(model, m, at);
      if (found !== undefined) return found;
    }
    // A long quiet stretch: find the latest day with trades, then its last trade.
    let end = scanFloor * MINUTE_MS;
    const acc = this.rangeAcc;
    while (end > listedAtMs) {
      const start = Math.max(listedAtMs, (Math.ceil(end / DAY_MS) - 1) * DAY_MS);
      this.aggregateRange(model, start, end, nowMs, acc.reset());
      if (acc.count > 0) return this.lastTradeInMinute(model, Math.floor(acc.lastMs / MINUTE_MS), acc.lastMs);
      end = start;
    }
    return undefined;
  }

  private lastTradeInMinute(model: MarketModel, m: number, at: number): SimTrade | undefined {
    const count = model.tradeCount(m);
    if (count === 0) return undefined;
    const n = model.generateMinute(m, count);
    for (let i = n - 1; i >= 0; i--) {
      const ms = tradeTimes[i]!;
      if (ms <= at && ms >= model.market.listedAtMs) return this.tradeAt(model, i);
    }
    return undefined;
  }

  ticker(code: string, atMs: number): SimTicker | undefined {
    const model = this.model(code);
    const nowMs = this.now();
    const at = Math.min(atMs, nowMs);
    const last = this.lastTrade(model, at, nowMs);
    if (last === undefined) return undefined;
    const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
    const acc = this.rangeAcc;

    this.aggregateRange(model, at + 1 - DAY_MS, at + 1, nowMs, acc.reset());
    const accTradePrice24h = acc.quoteVolume;
    const accTradeVolume24h = acc.volume;

    this.aggregateRange(model, dayStart, at + 1, nowMs, acc.reset());
    // A day without trades yet shows the last price flat, with nothing traded.
    const today: SimCandle =
      acc.count > 0
        ? acc.toCandle(dayStart)
        : { timeMs: dayStart, open: last.price, high: last.price, low: last.price, close: last.price, volume: 0, quoteVolume: 0, lastTradeMs: last.timestampMs, tradeCount: 0 };
    const accAskVolume = acc.askVolume;
    const accBidVolume = acc.bidVolume;

    const previous = this.lastTrade(model, dayStart - 1, nowMs);
    const prevClosingPrice = previous?.price ?? today.open;

    const todayIndex = dayStart / DAY_MS;
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

  /**
   * Highest and lowest trade prices (latest day on ties) over the 363 whole days before `day`,
   * exactly what those day candles say. Cached day aggregates count as they are; the rest is a
   * branch and bound on price bounds from the reference path: blocks of days, then days, hours
   * and minutes, so only the few minutes that can hold the extreme are generated.
   */
  private extremesBefore(model: MarketModel, day: number): Extremes | undefined {
    const key = model.ordinal * 1e6 + day;
    const cached = this.extremesCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const firstDay = Math.max(day - DAYS_52_WEEKS + 1, Math.floor(model.market.listedAtMs / DAY_MS));
    let result: Extremes | null = null;
    if (firstDay < day) {
      const high = this.searchExtreme(model, firstDay, day, 1);
      const low = this.searchExtreme(model, firstDay, day, -1);
      if (high.day >= 0) result = { high: high.value, highDay: high.day, low: -low.value, lowDay: low.day };
    }
    this.extremesCache.set(key, result);
    return result ?? undefined;
  }

  /** Best price × sign over the trades of days [firstDay, endDay), and its day (latest on ties); day -1 if none. */
  private searchExtreme(model: MarketModel, firstDay: number, endDay: number, sign: number): { value: number; day: number } {
    const listedAtMs = model.market.listedAtMs;
    let best = -Infinity;
    let bestDay = -1;
    const heap = new NodeHeap();
    const pushIfPromising = (level: number, startMinute: number, minutes: number, lastDay: number): void => {
      let bound: number;
      if (level === LEVEL_MINUTE) {
        if (model.tradeCount(startMinute) === 0) return;
        bound = model.minuteBound(startMinute, sign);
      } else {
        model.boundLogPrice(startMinute, startMinute + minutes);
        bound = sign > 0 ? model.priceCeiling(boundHigh) : -model.priceFloor(boundLow);
      }
      if (bound > best || (bound === best && lastDay > bestDay)) heap.push({ bound, day: lastDay, startMinute, minutes, level });
    };
    const exactDay = (d: number): boolean => {
      const exact = this.dayCache.get(model.ordinal * 1e6 + d);
      if (exact === undefined) return false;
      const value = sign > 0 ? exact.high : -exact.low;
      if (exact.count > 0 && (value > best || (value === best && d > bestDay))) [best, bestDay] = [value, d];
      return true;
    };
    for (let d = firstDay; d < endDay; d += DAYS_PER_BLOCK) {
      const blockEnd = Math.min(endDay, d + DAYS_PER_BLOCK);
      pushIfPromising(LEVEL_BLOCK, d * MINUTES_PER_DAY, (blockEnd - d) * MINUTES_PER_DAY, blockEnd - 1);
    }
    for (let node = heap.pop(); node !== undefined; node = heap.pop()) {
      if (node.bound < best || (node.bound === best && node.day <= bestDay)) break;
      const start = node.startMinute;
      switch (node.level) {
        case LEVEL_BLOCK:
          for (let m = start; m < start + node.minutes; m += MINUTES_PER_DAY) {
            const d = m / MINUTES_PER_DAY;
            if (!exactDay(d)) pushIfPromising(LEVEL_DAY, m, MINUTES_PER_DAY, d);
          }
          break;
        case LEVEL_DAY:
        case LEVEL_HOUR: {
          const childMinutes = node.level === LEVEL_DAY ? MINUTES_PER_HOUR : 1;
          for (let m = start; m < start + node.minutes; m += childMinutes) {
            if ((m + childMinutes) * MINUTE_MS > listedAtMs) pushIfPromising(node.level + 1, m, childMinutes, node.day);
          }
          break;
        }
        default: {
          const value = model.minuteExtreme(start, listedAtMs, sign);
          if (value > best || (value === best && node.day > bestDay)) [best, bestDay] = [value, node.day];
        }
      }
    }
    return { value: best, day: bestDay };
  }

  orderbook(code: string, atMs: number, depth: number): SimOrderbook {
    const model = this.model(code);
    const market = model.market;
    const nowMs = this.now();
    const at = Math.min(atMs, nowMs);
    const levels = Math.max(1, Math.min(MAX_BOOK_DEPTH, Math.floor(depth)));
    const rate = market.tradesPerMinute;
    // Quiet books change less often: the grid doubles per halving of liquidity.
    const gridMs =
      rate >= BOOK_BUSY_TRADES_PER_MINUTE
        ? BOOK_GRID_MS
        : Math.min(BOOK_MAX_GRID_MS, BOOK_GRID_MS * 2 ** Math.ceil(Math.log2(BOOK_BUSY_TRADES_PER_MINUTE / Math.max(rate, 1e-6))));
    const last = this.lastTrade(model, at, nowMs);
    const gridTime = Math.floor(at / gridMs) * gridMs;
    const timestampMs = Math.max(gridTime, last?.timestampMs ?? market.listedAtMs);
    // Before any trade the book sits around the reference path.
    const center = last?.price ?? model.ceilTick(model.priceAt(Math.floor(at / MINUTE_MS)));
    const lastSide = last?.askBid ?? "BID";

    rngState = hash3(model.key, SALT_BOOK, timestampMs) | 0;
    const busy = rate >= BOOK_BUSY_TRADES_PER_MINUTE;
    const spread = busy ? 1 : 1 + (nextRandom() % 3);
    const centerTicks = model.ticksOf(center);
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
      units.push({
        askPrice,
        askSize: this.bookSize(model, askPrice),
        bidPrice,
        bidSize: this.bookSize(model, bidPrice),
      });
      const gap = nextRandom();
      askTicks += busy ? 1 + ((gap & 0xff) < 32 ? 1 : 0) : 1 + ((gap >>> 8) % 4);
      bidTicks -= busy ? 1 + (((gap >>> 16) & 0xff) < 32 ? 1 : 0) : 1 + ((gap >>> 24) % 4);
    }
    return { market: code, timestampMs, units };
  }

  private bookSize(model: MarketModel, price: number): number {
    const factor = NOTIONAL_FACTORS[nextRandom() & (NOTIONAL_TABLE_SIZE - 1)]!;
    const size = Math.round(((2 * model.medianNotional * factor) / price) * VOLUME_DECIMALS_SCALE) / VOLUME_DECIMALS_SCALE;
    return size < MIN_VOLUME ? MIN_VOLUME : size;
  }
}

export function createSyntheticExchange(options: SyntheticExchangeOptions): SyntheticExchange {
  return new Exchange(options);
}
