/**
 * Percentiles of recent durations per key (priority), for the status page: the Prometheus
 * histogram answers "since start" with coarse buckets, the page wants "the last minute".
 *
 * Bounded whatever the request rate: each `slotMs` slot holds a log-scale count per key (bins
 * 5% apart), so a percentile is exact to within 5% and memory does not grow with traffic.
 */

/** Smallest duration told apart, seconds; anything faster falls in the first bin. */
const MIN_SECONDS = 50e-6;
/** Each bin's upper bound is this much above the previous one's. */
const GROWTH = 1.05;
/** Bins up to ~100 s; slower durations fall in the last bin. */
const BINS = Math.ceil(Math.log(100 / MIN_SECONDS) / Math.log(GROWTH)) + 1;

export interface LatencySummary {
  /** Durations seen in the window. */
  count: number;
  /** Medians and 99th percentiles, ms; 0 when count is 0. */
  p50Ms: number;
  p99Ms: number;
}

export interface RollingLatencyOptions {
  /** How far back `summary` looks. Default 60,000 ms. */
  windowMs?: number;
  /** Granularity of the window. Default 1,000 ms. */
  slotMs?: number;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

interface Slot {
  /** `Math.floor(time / slotMs)` of the slot's durations. */
  index: number;
  readonly bins: Map<string, Uint32Array>;
}

export class RollingLatency {
  private readonly windowMs: number;
  private readonly slotMs: number;
  private readonly now: () => number;
  private readonly slots: Slot[];

  constructor(options: RollingLatencyOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.slotMs = options.slotMs ?? 1_000;
    this.now = options.now ?? Date.now;
    if (!(this.slotMs > 0 && this.windowMs >= this.slotMs)) throw new RangeError("need windowMs >= slotMs > 0");
    this.slots = Array.from({ length: Math.ceil(this.windowMs / this.slotMs) }, () => ({ index: -1, bins: new Map() }));
  }

  observe(key: string, seconds: number): void {
    const index = Math.floor(this.now() / this.slotMs);
    const slot = this.slots[index % this.slots.length]!;
    if (slot.index !== index) {
      slot.index = index;
      slot.bins.clear();
    }
    let bins = slot.bins.get(key);
    if (bins === undefined) {
      bins = new Uint32Array(BINS);
      slot.bins.set(key, bins);
    }
    bins[binOf(seconds)]!++;
  }

  summary(key: string): LatencySummary {
    const total = new Float64Array(BINS);
    let count = 0;
    const newest = Math.floor(this.now() / this.slotMs);
    for (const slot of this.slots) {
      if (slot.index <= newest - this.slots.length || slot.index > newest) continue;
      const bins = slot.bins.get(key);
      if (bins === undefined) continue;
      for (let i = 0; i < BINS; i++) {
        total[i]! += bins[i]!;
        count += bins[i]!;
      }
    }
    if (count === 0) return { count: 0, p50Ms: 0, p99Ms: 0 };
    return { count, p50Ms: percentile(total, count, 0.5) * 1_000, p99Ms: percentile(total, count, 0.99) * 1_000 };
  }
}

function binOf(seconds: number): number {
  if (!(seconds > MIN_SECONDS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(seconds / MIN_SECONDS) / Math.log(GROWTH)));
}

/** The upper bound of bin `i`, seconds: a percentile is reported as the bound of its bin. */
function upperBound(i: number): number {
  return MIN_SECONDS * GROWTH ** i;
}

/** The smallest bound below which at least `q` of the `count` durations lie. */
function percentile(bins: Float64Array, count: number, q: number): number {
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= rank) return upperBound(i);
  }
  return upperBound(bins.length - 1);
}
