/**
 * Deterministic randomness for the synthetic exchange: keyed hashes (the same key and index always
 * give the same number, so any bucket can be computed on its own, in any order) and a small
 * seedable PRNG for the draws inside one bucket.
 */

export const INV_2_32 = 1 / 4294967296;
const INV_2_16 = 1 / 65536;

const NORMAL_TABLE_BITS = 10;
/** Standard normal quantiles at (i + 0.5) / 1024, from a fine numerical integration of the density. */
const NORMAL_QUANTILES = ((): Float64Array => {
  const size = 1 << NORMAL_TABLE_BITS;
  const table = new Float64Array(size);
  const step = 1e-3;
  let x = -6;
  let cdf = 0;
  let density = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  for (let i = 0; i < size; i++) {
    const p = (i + 0.5) / size;
    for (;;) {
      const next = Math.exp(-(x + step) * (x + step) / 2) / Math.sqrt(2 * Math.PI);
      const more = (density + next) * step / 2;
      if (cdf + more >= p) {
        table[i] = x + (step * (p - cdf)) / more;
        break;
      }
      cdf += more;
      density = next;
      x += step;
    }
  }
  return table;
})();

export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** 32-bit hash of (key, salt, index); `index` an integer below 2^53. */
export function hash3(key: number, salt: number, index: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  return mix32(key ^ mix32(salt ^ mix32(lo + Math.imul(hi, 0x9e3779b1))));
}

export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/**
 * Fast keyed hash of a 32-bit index (days, hours, minutes, lattice cells): the index scrambled by
 * an odd multiplier, xored with a per-stream key, then one full-avalanche finalizer.
 */
export function hashIndex(streamKey: number, index: number): number {
  return mix32(Math.imul(index, 0x9e3779b1) ^ streamKey);
}

/** `hashIndex` as a uniform number in [0, 1). */
export function unitOf(streamKey: number, index: number): number {
  return hashIndex(streamKey, index) * INV_2_32;
}

/** mulberry32. One instance per use site: a draw sequence must not depend on what ran before. */
export class Rng {
  private state = 0;

  seed(seed: number): this {
    this.state = seed | 0;
    return this;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  unit(): number {
    return this.next() * INV_2_32;
  }

  /** Uniform integer in [0, k). */
  below(k: number): number {
    return Math.floor(this.next() * INV_2_32 * k);
  }

  /** Triangular on (-1, 1), from one draw: bounded noise that still prefers the middle. */
  triangular(): number {
    const r = this.next();
    return ((r & 0xffff) + (r >>> 16)) * INV_2_16 - 1;
  }

  /** Standard normal, from one draw (1,024 quantiles, within ±3.3: no tails to blow up a price). */
  normal(): number {
    return NORMAL_QUANTILES[this.next() >>> (32 - NORMAL_TABLE_BITS)]!;
  }

  /** Poisson with mean `lambda`: exact inversion for small means, the normal limit for large ones. */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < POISSON_INVERSION_MAX_MEAN) {
      const u = this.unit();
      let p = Math.exp(-lambda);
      let cdf = p;
      let n = 0;
      while (u > cdf && p > 0) {
        n++;
        p *= lambda / n;
        cdf += p;
      }
      return n;
    }
    const n = Math.round(lambda + Math.sqrt(lambda) * this.normal());
    return n < 0 ? 0 : n;
  }
}

/** Below this mean a Poisson draw is inverted term by term; above it the normal limit is close enough. */
const POISSON_INVERSION_MAX_MEAN = 40;

/** Lognormal trade-size factors (median 1), indexed by 10 random bits: no exp per trade. */
export const SIZE_TABLE_BITS = 10;
export const SIZE_TABLE_MASK = (1 << SIZE_TABLE_BITS) - 1;
/** Spread of log trade size (lognormal sigma). */
const SIZE_LOG_SIGMA = 1.3;
export const SIZE_FACTORS = ((): Float64Array => {
  const table = new Float64Array(1 << SIZE_TABLE_BITS);
  const rng = new Rng().seed(0x5eed);
  for (let i = 0; i < table.length; i++) {
    let sum = 0;
    for (let j = 0; j < 12; j++) sum += rng.unit();
    table[i] = Math.exp(SIZE_LOG_SIGMA * (sum - 6));
  }
  return table;
})();
/** Mean trade-size factor (a lognormal's mean exceeds its median). */
export const SIZE_MEAN = SIZE_FACTORS.reduce((a, b) => a + b, 0) / SIZE_FACTORS.length;

/**
 * Relative size of a bucket holding `n` trades, mean `n`: a sum of `n` independent sizes, whose
 * relative spread shrinks like 1 / sqrt(n). Always positive.
 */
export function bucketSizeWeight(n: number, sizeFactor: number): number {
  return n + (Math.sqrt(n) * (sizeFactor - SIZE_MEAN)) / SIZE_MEAN;
}
