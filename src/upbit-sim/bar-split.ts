/**
 * Splitting one bucket's aggregate (a "bar") into its children's bars, exactly: the children's
 * trade counts sum to the parent's, their opens, highs, lows and closes combine to the parent's,
 * and their volumes and turnovers sum to the parent's up to float rounding. The same rules apply
 * at every level (day into hours, hour into minutes, and, with one-trade children, a minute into
 * its trades), so each level can be derived from the one above in O(children).
 *
 * Prices are integer ticks; the VWAP `w` is a (fractional) number of ticks.
 *
 * Why the slot rules: the parent's n trades are slots 1..n, the concatenation of its children's
 * slots. Slot 1 trades at the open and slot n at the close, so a high above both needs a slot of
 * its own, and a low below both another one. A bar is achievable with n trades only if n = 1 is
 * flat, n = 2 has no extension beyond open and close, and n = 3 at most one. Every bar built here
 * obeys that, so its own children can always be built the same way.
 */
import { Rng, SIZE_FACTORS, SIZE_TABLE_MASK, bucketSizeWeight } from "./sim-random.js";

/** One bucket's aggregate. */
export class Bar {
  /** Trade count. */
  n = 0;
  /** Open, high, low, close in ticks. */
  o = 0;
  h = 0;
  l = 0;
  c = 0;
  /** Base-currency volume in whole units of 1e-8 (Upbit's 8 decimals). */
  u = 0;
  /** Volume-weighted average price in ticks: strictly inside (l, h), or the price when flat. */
  w = 0;
}

/** The children of one bar, as columns. */
export class BarSplit {
  readonly n: Int32Array;
  readonly o: Float64Array;
  readonly h: Float64Array;
  readonly l: Float64Array;
  readonly c: Float64Array;
  readonly u: Float64Array;
  readonly w: Float64Array;

  constructor(readonly size: number) {
    // One backing store for all columns: allocating typed arrays' memory is what costs, not views.
    const buffer = new ArrayBuffer(size * (6 * 8 + 4));
    const column = (k: number): Float64Array => new Float64Array(buffer, k * size * 8, size);
    this.o = column(0);
    this.h = column(1);
    this.l = column(2);
    this.c = column(3);
    this.u = column(4);
    this.w = column(5);
    this.n = new Int32Array(buffer, 6 * size * 8, size);
  }

  barAt(i: number, out: Bar): Bar {
    out.n = this.n[i]!;
    out.o = this.o[i]!;
    out.h = this.h[i]!;
    out.l = this.l[i]!;
    out.c = this.c[i]!;
    out.u = this.u[i]!;
    out.w = this.w[i]!;
    return out;
  }

  /** Index of the last child with trades, -1 if none. */
  lastNonEmpty(): number {
    for (let i = this.size - 1; i >= 0; i--) if (this.n[i]! > 0) return i;
    return -1;
  }
}

/**
 * Up to this many trades per child, each trade is placed on its own (Poisson-like counts, empty
 * children where trades are rare); above, counts follow the cumulative weights, in O(children).
 */
const PLACE_EACH_TRADE_PER_CHILD = 2;

/** Distributes `n` trades over `size` children by `weights` into `counts` (exact sum). */
export function splitCounts(n: number, weights: Float64Array, size: number, rng: Rng, counts: Int32Array): void {
  counts.fill(0, 0, size);
  if (n === 0) return;
  let total = 0;
  for (let i = 0; i < size; i++) total += weights[i]!;
  if (n <= PLACE_EACH_TRADE_PER_CHILD * size) {
    for (let t = 0; t < n; t++) {
      let x = rng.unit() * total;
      let i = 0;
      while (i < size - 1 && x >= weights[i]!) x -= weights[i++]!;
      counts[i]!++;
    }
    if (n >= 2) pairLastTrade(counts, size);
    return;
  }
  let cumulative = 0;
  let placed = 0;
  for (let i = 0; i < size; i++) {
    cumulative += weights[i]!;
    const upTo = i === size - 1 ? n : Math.round((n * cumulative) / total);
    counts[i] = upTo - placed;
    placed = upTo;
  }
}

/**
 * If no child got two trades, the last trade joins the one before it. A child with two trades
 * (and, see `shapeChild`, a range) can take any VWAP strictly inside its range, which is what
 * lets every non-flat bar absorb the rounding of its children's volumes to whole units.
 */
function pairLastTrade(counts: Int32Array, size: number): void {
  let last = -1;
  let previous = -1;
  for (let i = 0; i < size; i++) {
    const c = counts[i]!;
    if (c >= 2) return;
    if (c === 1) [previous, last] = [last, i];
  }
  counts[last] = 0;
  counts[previous] = 2;
}

/** Scratch columns for one split (the deepest split has 60 children; trades grow it). */
class SplitScratch {
  bridge = new Float64Array(0);
  starts = new Int32Array(0);
  shares = new Float64Array(0);

  ensure(size: number): void {
    if (this.bridge.length > size) return;
    const capacity = Math.max(2 * this.bridge.length, size + 1, 64);
    this.bridge = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.shares = new Float64Array(capacity);
  }
}
const scratch = new SplitScratch();

/** Bridge noise per child step, relative to the parent's range over sqrt(children). */
const BRIDGE_SCALE = 0.45;
/** Noise of a child's open and close around the bridge, relative to a bridge step. */
const OPEN_CLOSE_NOISE = 0.3;
/** A child's high (low) reaches this many bridge steps beyond its open and close, times |normal|. */
const CHILD_EXTENSION = 0.6;
/** A natural VWAP lies this far into its bar's range, plus up to VWAP_SPREAD more. */
const VWAP_FLOOR = 0.3;
const VWAP_SPREAD = 0.4;

/**
 * Fills `out` (whose counts `out.n` are already set, summing to `parent.n`) with children's
 * opens, highs, lows, closes, volumes and VWAPs that aggregate exactly to `parent`.
 */
export function splitShape(parent: Bar, out: BarSplit, rng: Rng): void {
  const size = out.size;
  scratch.ensure(size);
  if (parent.h === parent.l) {
    splitFlat(parent, out, rng);
    return;
  }
  const starts = scratch.starts;
  let slot = 1;
  let firstChild = -1;
  let lastChild = -1;
  for (let i = 0; i < size; i++) {
    starts[i] = slot;
    slot += out.n[i]!;
    if (out.n[i]! > 0) {
      if (firstChild < 0) firstChild = i;
      lastChild = i;
    }
  }
  const step = ((parent.h - parent.l) * BRIDGE_SCALE) / Math.sqrt(size);
  const bridge = fillBridge(parent.o, parent.c, size, step, rng);
  const hSlot = extremeSlot(parent, out, rng, true, 0);
  const lSlot = extremeSlot(parent, out, rng, false, hSlot);
  let upChild = -1;
  let downChild = -1;
  for (let i = 0; i < size; i++) {
    const n = out.n[i]!;
    if (n === 0) {
      clearChild(out, i);
      continue;
    }
    const start = starts[i]!;
    const sH = hSlot - start + 1;
    const sL = lSlot - start + 1;
    if (sH >= 1 && sH <= n) upChild = i;
    if (sL >= 1 && sL <= n) downChild = i;
    shapeChild(parent, out, i, i === firstChild, i === lastChild, sH, sL, bridge[i]!, bridge[i + 1]!, step, rng);
  }
  assignVolumes(parent, out, rng, upChild, downChild);
}

/** A flat parent: every child trades at its one price. */
function splitFlat(parent: Bar, out: BarSplit, rng: Rng): void {
  const shares = scratch.shares;
  let total = 0;
  for (let i = 0; i < out.size; i++) {
    const n = out.n[i]!;
    shares[i] = n === 0 ? 0 : bucketSizeWeight(n, SIZE_FACTORS[rng.next() & SIZE_TABLE_MASK]!);
    total += shares[i]!;
  }
  for (let i = 0; i < out.size; i++) {
    shares[i] = shares[i]! / total;
    if (out.n[i]! === 0) {
      clearChild(out, i);
      continue;
    }
    out.o[i] = out.h[i] = out.l[i] = out.c[i] = parent.o;
    out.w[i] = parent.o;
  }
  allocateUnits(parent.u, out, shares);
}

function clearChild(out: BarSplit, i: number): void {
  out.o[i] = out.h[i] = out.l[i] = out.c[i] = out.u[i] = out.w[i] = 0;
}

/** A Brownian bridge from `from` to `to` over `size` steps, at the children's boundaries. */
function fillBridge(from: number, to: number, size: number, step: number, rng: Rng): Float64Array {
  const bridge = scratch.bridge;
  bridge[0] = 0;
  for (let j = 1; j <= size; j++) bridge[j] = bridge[j - 1]! + step * rng.normal();
  const end = bridge[size]!;
  for (let j = 0; j <= size; j++) {
    const f = j / size;
    bridge[j] = from + (to - from) * f + bridge[j]! - end * f;
  }
  return bridge;
}

/**
 * The parent's slot (1..n) carrying its high (`high`) or low: the open's or the close's when the
 * extreme is one of them, else an interior slot other than `taken`, preferably in the child where
 * the bridge runs highest (lowest), so the extreme falls where the path is.
 */
function extremeSlot(parent: Bar, out: BarSplit, rng: Rng, high: boolean, taken: number): number {
  const extreme = high ? parent.h : parent.l;
  if (extreme === parent.o) return 1;
  if (extreme === parent.c) return parent.n;
  const bridge = scratch.bridge;
  const starts = scratch.starts;
  let best = -1;
  let bestValue = 0;
  for (let i = 0; i < out.size; i++) {
    if (out.n[i]! === 0) continue;
    const a = bridge[i]!;
    const b = bridge[i + 1]!;
    const v = high ? (a > b ? a : b) : -(a < b ? a : b);
    if (best < 0 || v > bestValue) [best, bestValue] = [i, v];
  }
  const n = parent.n;
  const lo = Math.max(2, starts[best]!);
  const hi = Math.min(n - 1, starts[best]! + out.n[best]! - 1);
  const inChild = pickSlot(lo, hi, taken, rng);
  return inChild > 0 ? inChild : pickSlot(2, n - 1, taken, rng);
}

/** A uniform slot in [lo, hi] other than `taken`; 0 if there is none. */
export function pickSlot(lo: number, hi: number, taken: number, rng: Rng): number {
  const blocked = taken >= lo && taken <= hi ? 1 : 0;
  const choices = hi - lo + 1 - blocked;
  if (choices <= 0) return 0;
  const s = lo + rng.below(choices);
  return blocked === 1 && s >= taken ? s + 1 : s;
}

function clampTicks(t: number, low: number, high: number): number {
  const r = Math.round(t);
  return r > high ? high : r < low ? low : r;
}

/**
 * Child `i`'s open, high, low and close. `sH` and `sL` are the parent's high and low slots in the
 * child's numbering (inside 1..n when the child carries them). The parent's open and close go to
 * its first and last child; the rest follow the bridge within the parent's range, and a child
 * only extends beyond its own open and close where it has a free interior slot.
 */
function shapeChild(
  parent: Bar,
  out: BarSplit,
  i: number,
  first: boolean,
  last: boolean,
  sH: number,
  sL: number,
  bridgeStart: number,
  bridgeEnd: number,
  step: number,
  rng: Rng,
): void {
  const n = out.n[i]!;
  const high = parent.h;
  const low = parent.l;
  const carriesHigh = sH >= 1 && sH <= n;
  const carriesLow = sL >= 1 && sL <= n;
  const noise = step * OPEN_CLOSE_NOISE;
  if (n === 1) {
    const p = first
      ? parent.o
      : last
        ? parent.c
        : carriesHigh
          ? high
          : carriesLow
            ? low
            : clampTicks((bridgeStart + bridgeEnd) / 2 + noise * rng.normal(), low, high);
    out.o[i] = out.h[i] = out.l[i] = out.c[i] = p;
    return;
  }
  let o = first ? parent.o : sH === 1 ? high : sL === 1 ? low : clampTicks(bridgeStart + noise * rng.normal(), low, high);
  let c = last ? parent.c : sH === n ? high : sL === n ? low : clampTicks(bridgeEnd + noise * rng.normal(), low, high);
  let free = n - 2 - (sH > 1 && sH < n ? 1 : 0) - (sL > 1 && sL < n ? 1 : 0);
  let h = o > c ? o : c;
  let l = o > c ? c : o;
  if (carriesHigh) h = high;
  else if (free > 0) {
    const extended = clampTicks(h + Math.abs(rng.normal()) * step * CHILD_EXTENSION, h, high);
    if (extended > h) free--;
    h = extended;
  }
  if (carriesLow) l = low;
  else if (free > 0) l = clampTicks(l - Math.abs(rng.normal()) * step * CHILD_EXTENSION, low, l);
  if (h === l) {
    // A child with several trades keeps a range (see `pairLastTrade`): move its free end a tick.
    // Both ends forced to one price cannot happen: forced ends are distinct slots of a non-flat parent.
    if (!last && sH !== n && sL !== n) c = o < high ? o + 1 : o - 1;
    else o = c < high ? c + 1 : c - 1;
    h = o > c ? o : c;
    l = o > c ? c : o;
  }
  out.o[i] = o;
  out.h[i] = h;
  out.l[i] = l;
  out.c[i] = c;
}

/**
 * Volumes and VWAPs: natural shares (a sum of each child's trade sizes) and natural VWAPs inside
 * each child's range, then `fitVwap` so the shares' weighted VWAP is the parent's exactly. Volumes
 * are whole units (1e-8 of the base currency, so candles print exactly), and the turnover the
 * rounding loses or gains goes to the VWAP of the biggest child that can take any VWAP.
 */
function assignVolumes(parent: Bar, out: BarSplit, rng: Rng, upChild: number, downChild: number): void {
  const size = out.size;
  const shares = scratch.shares;
  let total = 0;
  for (let i = 0; i < size; i++) {
    const n = out.n[i]!;
    if (n === 0) {
      shares[i] = 0;
      continue;
    }
    shares[i] = bucketSizeWeight(n, SIZE_FACTORS[rng.next() & SIZE_TABLE_MASK]!);
    total += shares[i]!;
    const h = out.h[i]!;
    const l = out.l[i]!;
    out.w[i] = h === l ? h : l + (h - l) * (VWAP_FLOOR + VWAP_SPREAD * rng.unit());
  }
  for (let i = 0; i < size; i++) shares[i] = shares[i]! / total;
  fitVwap(parent.w, size, shares, out.w, out.l, out.h, upChild, downChild, rng);
  allocateUnits(parent.u, out, shares);
  absorbRounding(parent, out);
}

/** Whole units by cumulative rounding of the shares (exact sum), at least one per trade. */
function allocateUnits(units: number, out: BarSplit, shares: Float64Array): void {
  const size = out.size;
  let cumulative = 0;
  let placed = 0;
  let biggest = 0;
  let lastChild = size - 1;
  while (lastChild > 0 && out.n[lastChild]! === 0) lastChild--;
  for (let i = 0; i < size; i++) {
    cumulative += shares[i]!;
    const upTo = i >= lastChild ? units : Math.min(units, Math.round(units * cumulative));
    out.u[i] = upTo - placed;
    placed = upTo;
    if (out.u[i]! > out.u[biggest]!) biggest = i;
  }
  for (let i = 0; i < size; i++) {
    const missing = out.n[i]! - out.u[i]!;
    if (missing > 0) {
      out.u[i] = out.u[i]! + missing;
      out.u[biggest] = out.u[biggest]! - missing;
    }
  }
}

/** Gives the turnover lost to rounding to the biggest child with several trades and a range. */
function absorbRounding(parent: Bar, out: BarSplit): void {
  let rest = parent.u * parent.w;
  let x = -1;
  for (let i = 0; i < out.size; i++) {
    const u = out.u[i]!;
    if (u === 0) continue;
    rest -= u * out.w[i]!;
    if (out.n[i]! >= 2 && out.h[i]! > out.l[i]! && (x < 0 || u > out.u[x]!)) x = i;
  }
  if (x < 0) return;
  const w = out.w[x]! + rest / out.u[x]!;
  // Rounding moves a VWAP by a hair; the clamp only guards degenerate tiny volumes.
  const margin = (out.h[x]! - out.l[x]!) * 1e-9;
  out.w[x] = w <= out.l[x]! ? out.l[x]! + margin : w >= out.h[x]! ? out.h[x]! - margin : w;
}

/** How far a VWAP raised (lowered) to pull the total up (down) goes toward its bar's high (low). */
const PULL_FLOOR = 0.2;
const PULL_SPREAD = 0.4;

/**
 * Makes sum(shares × vwaps) equal `target` exactly (shares sum to 1 and stay positive). When the
 * natural total is too low, the child carrying the parent's high (`up`, whose range reaches above
 * the target) gets a VWAP above the target and the shares are mixed toward it:
 * shares' = (1 - α) shares + α e_up, with α = (target - V) / (vwap_up - V). Symmetric when too
 * high. Children are trades when `lows` and `highs` are their prices: then the VWAP is the price.
 */
export function fitVwap(
  target: number,
  size: number,
  shares: Float64Array,
  vwaps: Float64Array,
  lows: Float64Array,
  highs: Float64Array,
  up: number,
  down: number,
  rng: Rng,
): void {
  let v = 0;
  for (let i = 0; i < size; i++) v += shares[i]! * vwaps[i]!;
  if (v === target) return;
  const raise = v < target;
  const x = raise ? up : down;
  if (x < 0) return;
  const share = shares[x]!;
  const edge = raise ? highs[x]! : lows[x]!;
  const inner = raise ? Math.max(target, lows[x]!) : Math.min(target, highs[x]!);
  const pulled = edge === inner ? edge : inner + (edge - inner) * (PULL_FLOOR + PULL_SPREAD * rng.unit());
  const moved = v + share * (pulled - vwaps[x]!);
  if (raise ? moved >= target : moved <= target) {
    // Moving x's VWAP part of the way is enough: no reweighting.
    vwaps[x] = vwaps[x]! + (target - v) / share;
    return;
  }
  vwaps[x] = pulled;
  let alpha = (target - moved) / (pulled - moved);
  if (!(alpha > 0)) alpha = 0;
  else if (alpha > 1) alpha = 1;
  for (let i = 0; i < size; i++) shares[i] = shares[i]! * (1 - alpha);
  shares[x] = shares[x]! + alpha;
}
