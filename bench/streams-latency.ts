/**
 * A fixed-bin latency histogram for the streams bench: the subscriber processes record millions
 * of samples and ship only the bins back to the bench. 10 µs bins up to 100 ms, 1 ms bins up to
 * 10 s; anything below zero (two processes' stamps can cross by a few µs) counts in bin 0.
 */

const FINE_BIN_MS = 0.01;
const FINE_LIMIT_MS = 100;
const COARSE_LIMIT_MS = 10_000;
const FINE_BINS = FINE_LIMIT_MS / FINE_BIN_MS;
const BINS = 1 + FINE_BINS + (COARSE_LIMIT_MS - FINE_LIMIT_MS) + 1;

export interface HistogramData {
  bins: number[];
  count: number;
  /** Samples below zero (they sit in bin 0 too). */
  negative: number;
  minMs: number;
  maxMs: number;
  sumMs: number;
}

export interface Percentiles {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Samples below zero, and the lowest: many say the stamps compared are not to be trusted. */
  belowZero: number;
  minMs: number;
}

export class LatencyHistogram {
  private readonly bins = new Uint32Array(BINS);
  private count = 0;
  private negative = 0;
  private minMs = Number.POSITIVE_INFINITY;
  private maxMs = Number.NEGATIVE_INFINITY;
  private sumMs = 0;

  record(ms: number): void {
    this.count++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    if (ms < 0) {
      this.negative++;
      this.bins[0]!++;
    } else if (ms < FINE_LIMIT_MS) this.bins[1 + Math.floor(ms / FINE_BIN_MS)]!++;
    else if (ms < COARSE_LIMIT_MS) this.bins[1 + FINE_BINS + Math.floor(ms - FINE_LIMIT_MS)]!++;
    else this.bins[BINS - 1]!++;
  }

  data(): HistogramData {
    return { bins: Array.from(this.bins), count: this.count, negative: this.negative, minMs: this.minMs, maxMs: this.maxMs, sumMs: this.sumMs };
  }

  merge(d: HistogramData): void {
    for (let i = 0; i < BINS; i++) this.bins[i]! += d.bins[i] ?? 0;
    this.count += d.count;
    this.negative += d.negative;
    this.sumMs += d.sumMs;
    this.minMs = Math.min(this.minMs, d.minMs);
    this.maxMs = Math.max(this.maxMs, d.maxMs);
  }

  /** The upper edge of the bin holding the q-quantile (so never optimistic by more than a bin). */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i]!;
      if (seen < rank) continue;
      if (i === 0) return Math.min(0, this.maxMs);
      const upper = i <= FINE_BINS ? i * FINE_BIN_MS : i < BINS - 1 ? FINE_LIMIT_MS + (i - FINE_BINS) : this.maxMs;
      return Math.min(upper, this.maxMs);
    }
    return this.maxMs;
  }

  percentiles(): Percentiles {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.count === 0 ? Number.NaN : this.maxMs,
      meanMs: this.count === 0 ? Number.NaN : this.sumMs / this.count,
      belowZero: this.negative,
      minMs: this.count === 0 ? Number.NaN : this.minMs,
    };
  }

  static of(...data: HistogramData[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const d of data) h.merge(d);
    return h;
  }
}
