/** Latency statistics and timing helpers shared by the benchmarks. */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The `q` quantile of ascending `sorted` (nearest rank); NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (xs: readonly number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);

export function latency(samples: readonly number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  return { p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99), maxMs: s[s.length - 1] ?? NaN };
}

export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await f();
  return [result, performance.now() - start];
}

/**
 * Calls `call` one at a time on a fixed schedule (every `intervalMs` from the start, as a polling
 * bot would; right away when a call overran its slot) until `done()`; returns each call's latency.
 */
export async function paced(intervalMs: number, done: () => boolean, call: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; ; i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await delay(wait);
    if (done()) return samples;
    const [, ms] = await timed(call);
    samples.push(ms);
  }
}
