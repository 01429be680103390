/**
 * One market's top-level model: each UTC day's bar in O(1) (trade count, open, high, low, close,
 * volume, VWAP), the weights that spread a day's trades over its hours and an hour's over its
 * minutes, the seeds of every lower-level draw, and the market's tick grid.
 */
import { Bar } from "./bar-split.js";
import type { SimMarket } from "./exchange-model.js";
import { Rng, SIZE_FACTORS, SIZE_MEAN, SIZE_TABLE_MASK, hash3, hashIndex, hashString, mix32, unitOf } from "./sim-random.js";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1_440;

/**
 * Reference path octaves over days: periods 4^0 .. 4^(DAY_OCTAVES - 1) days (1 day .. ~2.8 years).
 * A ratio of 4 rather than 2 halves the work per day and still looks like a walk at every scale.
 */
const DAY_OCTAVES = 6;
const OCTAVE_SHIFT = 2;
/**
 * Log-price amplitude of the one-day octave; an octave of period P days has this × sqrt(P), so the
 * path looks like a random walk at every scale (~2 % a day, ~10 % a month at temperament 1) yet
 * stays within ~1 e-fold of the reference price (the amplitudes sum to 63 units).
 */
const DAY_AMPLITUDE_UNIT = 0.015;
/** Markets trading less than this per minute are more volatile by the factor below. */
const THIN_MARKET_TRADES_PER_MINUTE = 1;
const THIN_MARKET_VOLATILITY = 1.4;
/** Noise of a day's open and close around the path at their boundary, relative to the unit. */
const OPEN_CLOSE_NOISE = 0.15;
/** A day's high (low) reaches this many units beyond its open and close, times |normal|... */
const DAY_EXTENSION = 0.8;
/** ...scaled down for days with fewer trades than this (a handful of trades barely range). */
const FULL_RANGE_TRADES = 60;
/** A day's VWAP lies this far into its range, plus up to VWAP_SPREAD more. */
const VWAP_FLOOR = 0.3;
const VWAP_SPREAD = 0.4;
/** Volumes are counted in whole units of Upbit's 8 decimals. */
const VOLUME_UNITS_PER_BASE = 1e8;
/** Day-to-day volume noise beyond the count's (lognormal sigma). */
const DAY_SIZE_SIGMA = 0.25;

/** Activity (trading intensity) octaves over days: periods 4, 16 and 64 days, in log units. */
const ACTIVITY_PERIODS = [4, 16, 64] as const;
const ACTIVITY_AMPLITUDE = 0.3;
/** Day-to-day activity noise, log units (triangular). */
const ACTIVITY_DAILY_NOISE = 0.25;
/** New listings trade this many times their usual rate on the first day, decaying over LISTING_DECAY_DAYS. */
const LISTING_BOOST = 4;
const LISTING_DECAY_DAYS = 2;

/** Trading activity by UTC hour (Korean daytime busiest); normalised to mean 1 below. */
const RAW_HOURLY_PROFILE = [
  1.3, 1.4, 1.3, 1.2, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.3, 1.0, 0.8, 0.6, 0.5, 0.5, 0.6, 0.7, 0.9, 1.1,
];
const HOURLY_PROFILE = ((): Float64Array => {
  const mean = RAW_HOURLY_PROFILE.reduce((a, b) => a + b, 0) / RAW_HOURLY_PROFILE.length;
  return Float64Array.from(RAW_HOURLY_PROFILE, (v) => v / mean);
})();
/** Each hour's and each minute's weight is also scaled by 0.4 + 1.8 u² (mean 1), u uniform. */
const BURST_BASE = 0.4;
const BURST_SPREAD = 1.8;

/** Median trade notional in KRW at 1 trade/min; grows with liquidity as (1 + rate)^0.7. */
const MEDIAN_NOTIONAL_KRW = 30_000;
const NOTIONAL_LIQUIDITY_EXPONENT = 0.7;
/** Rough KRW value of one quote unit, to size BTC- and USDT-quoted trades. */
const KRW_PER_QUOTE: Readonly<Record<SimMarket["quote"], number>> = { KRW: 1, BTC: 103_458_000, USDT: 1_463 };

/** Hash salts: one per independent random stream. */
const SALT_LATTICE = 0x1000;
const SALT_ACTIVITY = 0x3000;
const SALT_DAY = 0x4000;
const SALT_HOUR_WEIGHT = 0x5000;
const SALT_MINUTE_WEIGHT = 0x6000;
const SALT_DAY_COUNTS = 0x7000;
const SALT_DAY_SHAPE = 0x8000;
const SALT_HOUR_COUNTS = 0x9000;
const SALT_HOUR_SHAPE = 0xa000;
const SALT_LAST_TRADE = 0xb000;
const SALT_TRADES = 0xc000;
const SALT_BOOK = 0xd000;

const LATTICE_SCALE = 2 / 4294967296;
const OCTAVE_RECIPROCALS = Float64Array.from({ length: DAY_OCTAVES }, (_, k) => 2 ** -(k * OCTAVE_SHIFT));

function smoothstep(f: number): number {
  return f * f * (3 - 2 * f);
}

export class MarketModel {
  readonly key: number;
  readonly tick: number;
  /** 1 / tick for decimal ticks (an exact integer), 0 for ticks >= 1. */
  private readonly inverseTick: number;
  private readonly tickReciprocal: number;
  private readonly logReference: number;
  private readonly unit: number;
  private readonly amplitudes = new Float64Array(DAY_OCTAVES);
  private readonly latticeKeys = new Int32Array(DAY_OCTAVES);
  private readonly activityKeys = new Int32Array(ACTIVITY_PERIODS.length);
  private readonly dayKey: number;
  private readonly hourWeightKey: number;
  private readonly minuteWeightKey: number;
  private readonly lastTradeKey: number;
  readonly medianNotional: number;
  readonly listedDay: number;
  readonly listedMinute: number;
  // The path at the last two day boundaries asked for: pages walk days in order.
  private readonly pathDays = [Number.NaN, Number.NaN];
  private readonly pathValues = [0, 0];
  private readonly pathPrices = [0, 0];
  // Each octave's last lattice cell and its two end values.
  private readonly latticeCells = new Float64Array(DAY_OCTAVES).fill(Number.NaN);
  private readonly latticeLows = new Float64Array(DAY_OCTAVES);
  private readonly latticeHighs = new Float64Array(DAY_OCTAVES);
  private readonly activityCells = new Float64Array(ACTIVITY_PERIODS.length).fill(Number.NaN);
  private readonly activityLows = new Float64Array(ACTIVITY_PERIODS.length);
  private readonly activityHighs = new Float64Array(ACTIVITY_PERIODS.length);
  private readonly rng = new Rng();

  constructor(
    readonly market: SimMarket,
    readonly ordinal: number,
    seed: number,
  ) {
    this.key = mix32(hashString(market.code) ^ mix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d)));
    this.tick = market.tickSize;
    this.inverseTick = market.tickSize < 1 ? Math.round(1 / market.tickSize) : 0;
    this.tickReciprocal = 1 / market.tickSize;
    this.logReference = Math.log(market.referencePrice);
    // Each market gets its own temperament, 0.6 .. 1.1 times the base volatility; thin markets swing more.
    const temperament =
      (0.6 + 0.5 * (hash3(this.key, SALT_ACTIVITY, 0xffff) / 4294967296)) *
      (market.tradesPerMinute < THIN_MARKET_TRADES_PER_MINUTE ? THIN_MARKET_VOLATILITY : 1);
    this.unit = DAY_AMPLITUDE_UNIT * temperament;
    for (let k = 0; k < DAY_OCTAVES; k++) {
      this.amplitudes[k] = this.unit * Math.sqrt(2 ** (k * OCTAVE_SHIFT));
      this.latticeKeys[k] = hash3(this.key, SALT_LATTICE, k);
    }
    ACTIVITY_PERIODS.forEach((_, k) => (this.activityKeys[k] = hash3(this.key, SALT_ACTIVITY, k)));
    this.dayKey = hash3(this.key, SALT_DAY, 0);
    this.hourWeightKey = hash3(this.key, SALT_HOUR_WEIGHT, 0);
    this.minuteWeightKey = hash3(this.key, SALT_MINUTE_WEIGHT, 0);
    this.lastTradeKey = hash3(this.key, SALT_LAST_TRADE, 0);
    this.medianNotional =
      (MEDIAN_NOTIONAL_KRW * Math.pow(1 + market.tradesPerMinute, NOTIONAL_LIQUIDITY_EXPONENT)) / KRW_PER_QUOTE[market.quote];
    this.listedDay = Math.floor(market.listedAtMs / DAY_MS);
    this.listedMinute = Math.floor(market.listedAtMs / MINUTE_MS);
  }

  // -------------------------------------------------------------------------------------------
  // Tick grid

  /** Nearest tick count of a price, at least one tick. */
  roundTicks(price: number): number {
    const t = Math.round(price * (this.inverseTick === 0 ? this.tickReciprocal : this.inverseTick));
    return t < 1 ? 1 : t;
  }

  ceilTicks(price: number): number {
    const t = Math.ceil(price * (this.inverseTick === 0 ? this.tickReciprocal : this.inverseTick));
    return t < 1 ? 1 : t;
  }

  floorTicks(price: number): number {
    const t = Math.floor(price * (this.inverseTick === 0 ? this.tickReciprocal : this.inverseTick));
    return t < 1 ? 1 : t;
  }

  /** Integer number of ticks in a price that lies on the tick. */
  ticksOf(price: number): number {
    return this.inverseTick === 0 ? Math.round(price / this.tick) : Math.round(price * this.inverseTick);
  }

  /** Price of a tick count; decimal ticks divide by an exact integer so prices print cleanly. */
  priceOfTicks(ticks: number): number {
    return this.inverseTick === 0 ? ticks * this.tick : ticks / this.inverseTick;
  }

  /** Quote value of `volume` (any unit) at a VWAP of `vwapTicks` ticks, in quote × that unit. */
  turnover(volume: number, vwapTicks: number): number {
    return this.inverseTick === 0 ? volume * vwapTicks * this.tick : (volume * vwapTicks) / this.inverseTick;
  }

  // -------------------------------------------------------------------------------------------
  // Reference path and activity

  private lattice(k: number, cell: number): number {
    return hashIndex(this.latticeKeys[k]!, cell) * LATTICE_SCALE - 1;
  }

  /** Reference log-price at day boundary `d` (00:00 UTC of day d): multi-octave value noise. */
  logPathAt(d: number): number {
    if (this.pathDays[0] === d) return this.pathValues[0]!;
    if (this.pathDays[1] === d) return this.pathValues[1]!;
    let sum = this.logReference;
    const cells = this.latticeCells;
    const lows = this.latticeLows;
    const highs = this.latticeHighs;
    for (let k = 0; k < DAY_OCTAVES; k++) {
      const shift = k * OCTAVE_SHIFT;
      const cell = d >> shift;
      // Neighbouring days share an octave's lattice cell, or the next one shares an end value.
      const known = cells[k]!;
      if (known !== cell) {
        if (cell === known + 1) {
          lows[k] = highs[k]!;
          highs[k] = this.lattice(k, cell + 1);
        } else if (cell === known - 1) {
          highs[k] = lows[k]!;
          lows[k] = this.lattice(k, cell);
        } else {
          lows[k] = this.lattice(k, cell);
          highs[k] = this.lattice(k, cell + 1);
        }
        cells[k] = cell;
      }
      const h0 = lows[k]!;
      sum += this.amplitudes[k]! * (h0 + (highs[k]! - h0) * smoothstep((d - (cell << shift)) * OCTAVE_RECIPROCALS[k]!));
    }
    const slot = d & 1;
    this.pathDays[slot] = d;
    this.pathValues[slot] = sum;
    this.pathPrices[slot] = Math.exp(sum);
    return sum;
  }

  /** Reference price at day boundary `d`. */
  pathPriceAt(d: number): number {
    this.logPathAt(d);
    return this.pathPrices[d & 1]!;
  }

  /** Reference price at minute `m`, between the day boundaries around it (order books before any trade). */
  pathPriceAtMinute(m: number): number {
    const d = Math.floor(m / MINUTES_PER_DAY);
    const f = (m - d * MINUTES_PER_DAY) / MINUTES_PER_DAY;
    return Math.exp(this.logPathAt(d) * (1 - f) + this.logPathAt(d + 1) * f);
  }

  /** Mean trades on day `d` relative to the market's rate: slow regimes, daily noise, a listing burst. */
  private activity(d: number, dailyNoise: number): number {
    let log = dailyNoise * ACTIVITY_DAILY_NOISE;
    for (let k = 0; k < ACTIVITY_PERIODS.length; k++) {
      const period = ACTIVITY_PERIODS[k]!;
      const cell = Math.floor(d / period);
      if (this.activityCells[k] !== cell) {
        const key = this.activityKeys[k]!;
        this.activityCells[k] = cell;
        this.activityLows[k] = unitOf(key, cell) * 2 - 1;
        this.activityHighs[k] = unitOf(key, cell + 1) * 2 - 1;
      }
      const h0 = this.activityLows[k]!;
      log += ACTIVITY_AMPLITUDE * (h0 + (this.activityHighs[k]! - h0) * smoothstep((d - cell * period) / period));
    }
    const age = d - this.listedDay;
    const listing = age >= 0 && age < 8 * LISTING_DECAY_DAYS ? 1 + LISTING_BOOST * Math.exp(-age / LISTING_DECAY_DAYS) : 1;
    return Math.exp(log) * listing;
  }

  // -------------------------------------------------------------------------------------------
  // Day bars

  /**
   * Day `d`'s bar into `out`, in O(1): a Poisson count at the day's activity; open and close near
   * the path at the day's two boundaries; high and low beyond them by a range that grows with the
   * count, within what the count allows (see bar-split.ts); volume a sum of sizes; VWAP inside.
   */
  dayBar(d: number, out: Bar): Bar {
    const rng = this.rng.seed(hashIndex(this.dayKey, d));
    const n = rng.poisson(this.market.tradesPerMinute * MINUTES_PER_DAY * this.activity(d, rng.triangular()));
    out.n = n;
    if (n === 0) {
      out.o = out.h = out.l = out.c = out.u = out.w = 0;
      return out;
    }
    const pathOpen = this.pathPriceAt(d);
    const pathClose = this.pathPriceAt(d + 1);
    const unit = this.unit;
    const o = this.roundTicks(pathOpen * (1 + unit * OPEN_CLOSE_NOISE * rng.triangular()));
    const c = n === 1 ? o : this.roundTicks(pathClose * (1 + unit * OPEN_CLOSE_NOISE * rng.triangular()));
    const reach = unit * DAY_EXTENSION * Math.sqrt(Math.min(1, n / FULL_RANGE_TRADES));
    const top = o > c ? o : c;
    const bottom = o > c ? c : o;
    // Moves of a few percent: 1 + x + x²/2 is exp(x) closely enough, and much cheaper.
    const up = reach * Math.abs(rng.normal());
    const down = reach * Math.abs(rng.normal());
    let h = this.ceilTicks(this.priceOfTicks(top) * (1 + up + 0.5 * up * up));
    let l = this.floorTicks(this.priceOfTicks(bottom) / (1 + down + 0.5 * down * down));
    if (h < top) h = top;
    if (l > bottom) l = bottom;
    // Too few trades for both extremes: keep the larger one (n = 3), or none (n <= 2).
    if (n <= 2) [h, l] = [top, bottom];
    else if (n === 3 && h > top && l < bottom) {
      if ((h - top) * bottom >= (bottom - l) * top) l = bottom;
      else h = top;
    }
    out.o = o;
    out.h = h;
    out.l = l;
    out.c = c;
    const sizeFactor = SIZE_FACTORS[rng.next() & SIZE_TABLE_MASK]! / SIZE_MEAN;
    const meanSize = (this.medianNotional * SIZE_MEAN * 2) / (pathOpen + pathClose);
    // Lognormal-like day-to-day size noise without an exp: (1 + s z / 2)², |s z| < 0.9.
    const sizeNoise = 1 + 0.5 * DAY_SIZE_SIGMA * rng.normal();
    const units = Math.round(meanSize * VOLUME_UNITS_PER_BASE * (n + Math.sqrt(n) * (sizeFactor - 1)) * sizeNoise * sizeNoise);
    out.u = units > n ? units : n;
    out.w = h === l ? h : l + (h - l) * (VWAP_FLOOR + VWAP_SPREAD * rng.unit());
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Weights and seeds of the lower levels

  /** Relative trade intensity of day `d`'s 24 hours: time-of-day profile × hourly bursts. */
  hourWeights(d: number, out: Float64Array): Float64Array {
    for (let i = 0; i < 24; i++) {
      const u = unitOf(this.hourWeightKey, d * 24 + i);
      out[i] = HOURLY_PROFILE[i]! * (BURST_BASE + BURST_SPREAD * u * u);
    }
    return out;
  }

  /** Relative trade intensity of hour `hour`'s 60 minutes. */
  minuteWeights(hour: number, out: Float64Array): Float64Array {
    for (let i = 0; i < 60; i++) {
      const u = unitOf(this.minuteWeightKey, hour * 60 + i);
      out[i] = BURST_BASE + BURST_SPREAD * u * u;
    }
    return out;
  }

  dayCountsSeed(d: number): number {
    return hash3(this.key, SALT_DAY_COUNTS, d);
  }

  dayShapeSeed(d: number): number {
    return hash3(this.key, SALT_DAY_SHAPE, d);
  }

  hourCountsSeed(hour: number): number {
    return hash3(this.key, SALT_HOUR_COUNTS, hour);
  }

  hourShapeSeed(hour: number): number {
    return hash3(this.key, SALT_HOUR_SHAPE, hour);
  }

  tradesSeed(m: number): number {
    return hash3(this.key, SALT_TRADES, m);
  }

  bookSeed(ms: number): number {
    return hash3(this.key, SALT_BOOK, ms);
  }

  /** Uniform draw that places minute `m`'s last trade inside the minute. */
  lastTradeUnit(m: number): number {
    return unitOf(this.lastTradeKey, m);
  }
}
