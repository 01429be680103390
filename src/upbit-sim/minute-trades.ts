/**
 * One minute's trades, laid out from the minute's bar so that they aggregate back to it exactly:
 * the first trade at the open, the last at the close and at the bar's last-trade time, one trade
 * at the high and one at the low, the rest along a bounded path between them; volumes from
 * lognormal sizes, reweighted (`fitVwap`) so that their sum and turnover are the bar's.
 */
import { type Bar, fitVwap, pickSlot } from "./bar-split.js";
import { Rng, SIZE_FACTORS, SIZE_TABLE_MASK } from "./sim-random.js";

const MINUTE_MS = 60_000;
export const SIDE_ASK = 0;
export const SIDE_BID = 1;

/** One in this many trades (of 256) continues the previous taker order: same millisecond. */
const CLUSTER_CONTINUE_OF_256 = 51;
/** Path noise between open and close, relative to the bar's range. */
const PATH_NOISE = 0.35;
/** Persistence of the path noise from one trade to the next (keeps it walk-like). */
const PATH_PERSISTENCE = 0.6;
/** Taker lean with the minute's move: up to this many in 256 more buys when it rises. */
const SIDE_LEAN = 48;

/** Scratch columns of the last laid-out minute, grown on demand (minutes rarely exceed 200 trades). */
export class MinuteTrades {
  count = 0;
  times = new Float64Array(256);
  ticks = new Float64Array(256);
  volumes = new Float64Array(256);
  sides = new Uint8Array(256);
  seqs = new Uint16Array(256);
  askVolume = 0;
  bidVolume = 0;
  // Fit inputs: shares, and prices as both bounds of each one-trade "child".
  shares = new Float64Array(256);

  ensure(n: number): void {
    if (this.times.length >= n) return;
    const capacity = Math.max(n, 2 * this.times.length);
    this.times = new Float64Array(capacity);
    this.ticks = new Float64Array(capacity);
    this.volumes = new Float64Array(capacity);
    this.sides = new Uint8Array(capacity);
    this.seqs = new Uint16Array(capacity);
    this.shares = new Float64Array(capacity);
  }
}

/**
 * Time of the last trade of minute `m` holding `n` trades (>= 1), from `u` uniform in [0, 1):
 * inside the minute's last slot of 60 s / n, so the other trades' slots come before it.
 */
export function lastTradeMsOf(m: number, n: number, u: number): number {
  return m * MINUTE_MS + MINUTE_MS - 1 - Math.floor(u * (MINUTE_MS / n));
}

const rng = new Rng();

/** Lays out minute `m` (bar `bar`, last trade at `lastMs`) into `out`, the PRNG seeded by `seed`. */
export function layoutMinute(bar: Bar, m: number, lastMs: number, seed: number, out: MinuteTrades): void {
  const n = bar.n;
  out.ensure(n);
  out.count = n;
  rng.seed(seed);
  layoutTimes(n, m, lastMs, out);
  layoutPrices(bar, out);
  layoutSides(bar, out);
  layoutVolumes(bar, out);
}

function layoutTimes(n: number, m: number, lastMs: number, out: MinuteTrades): void {
  const times = out.times;
  const seqs = out.seqs;
  const baseMs = m * MINUTE_MS;
  const slotMs = MINUTE_MS / n;
  times[n - 1] = lastMs;
  if (n > 1) times[0] = baseMs + Math.floor(rng.unit() * slotMs);
  for (let i = 1; i < n - 1; i++) {
    const r = rng.next();
    const ms = (r & 0xff) < CLUSTER_CONTINUE_OF_256 ? times[i - 1]! : baseMs + Math.floor((i + (r >>> 16) / 65536) * slotMs);
    // Slots keep these ascending and before the last trade; the clamps only guard rounding.
    times[i] = ms < times[i - 1]! ? times[i - 1]! : ms > lastMs ? lastMs : ms;
  }
  for (let i = 0; i < n; i++) seqs[i] = i > 0 && times[i] === times[i - 1] ? seqs[i - 1]! + 1 : 0;
}

/** Slot of the bar's high (`high`) or low: at the open or close when it is one of them, else an interior slot. */
function extremeIndex(bar: Bar, high: boolean, taken: number): number {
  const extreme = high ? bar.h : bar.l;
  if (extreme === bar.o) return 0;
  if (extreme === bar.c) return bar.n - 1;
  // pickSlot counts from 1.
  return pickSlot(2, bar.n - 1, taken + 1, rng) - 1;
}

function layoutPrices(bar: Bar, out: MinuteTrades): void {
  const n = bar.n;
  const ticks = out.ticks;
  const hi = extremeIndex(bar, true, -2);
  const lo = extremeIndex(bar, false, hi);
  const range = bar.h - bar.l;
  let z = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) ticks[i] = bar.o;
    else if (i === n - 1) ticks[i] = bar.c;
    else {
      z = PATH_PERSISTENCE * z + (1 - PATH_PERSISTENCE) * rng.triangular();
      const t = Math.round(bar.o + ((bar.c - bar.o) * i) / (n - 1) + range * PATH_NOISE * z);
      ticks[i] = t > bar.h ? bar.h : t < bar.l ? bar.l : t;
    }
  }
  // The extremes last: they may sit on the open's or close's slot, which then already holds them.
  ticks[hi] = bar.h;
  ticks[lo] = bar.l;
}

/** Takers buy on upticks and sell on downticks; unchanged prices lean with the minute's move. */
function layoutSides(bar: Bar, out: MinuteTrades): void {
  const ticks = out.ticks;
  const sides = out.sides;
  const lean = bar.c > bar.o ? SIDE_LEAN : bar.c < bar.o ? -SIDE_LEAN : 0;
  for (let i = 0; i < bar.n; i++) {
    const change = i === 0 ? 0 : ticks[i]! - ticks[i - 1]!;
    if (change > 0) sides[i] = SIDE_BID;
    else if (change < 0) sides[i] = SIDE_ASK;
    else if (i > 0 && out.times[i] === out.times[i - 1]) sides[i] = sides[i - 1]!;
    else sides[i] = (rng.next() & 0xff) < 128 + lean ? SIDE_BID : SIDE_ASK;
  }
}

function layoutVolumes(bar: Bar, out: MinuteTrades): void {
  const n = bar.n;
  const shares = out.shares;
  const ticks = out.ticks;
  let total = 0;
  for (let i = 0; i < n; i++) {
    shares[i] = SIZE_FACTORS[rng.next() & SIZE_TABLE_MASK]!;
    total += shares[i]!;
  }
  for (let i = 0; i < n; i++) shares[i] = shares[i]! / total;
  if (bar.h > bar.l) {
    let up = -1;
    let down = -1;
    for (let i = 0; i < n; i++) {
      if (ticks[i] === bar.h && up < 0) up = i;
      if (ticks[i] === bar.l && down < 0) down = i;
    }
    // Trades are one-price children: their prices are both their lows and highs.
    fitVwap(bar.w, n, shares, ticks, ticks, ticks, up, down, rng);
  }
  let ask = 0;
  let bid = 0;
  for (let i = 0; i < n; i++) {
    const v = bar.u * shares[i]!;
    out.volumes[i] = v;
    if (out.sides[i] === SIDE_BID) bid += v;
    else ask += v;
  }
  out.askVolume = ask;
  out.bidVolume = bid;
}
