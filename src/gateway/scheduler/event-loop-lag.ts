import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { type CpuClock, threadCpuClock } from "./thread-cpu-clock.js";

/** Sampling period of the delay histogram, ms: a block is measured to within this. */
const HISTOGRAM_RESOLUTION_MS = 2;

/** Lengths, ms, that own-work blocks are counted at: "how many blocks of at least 10 ms". */
export const BUSY_BLOCK_BOUNDS_MS: readonly number[] = [5, 10, 20, 50, 100, 250, 1_000];

/** Own-work blocks since start that lasted at least `atLeastMs`. */
export interface BusyBlockCount {
  readonly atLeastMs: number;
  readonly count: number;
}

/**
 * How late the event loop runs timers right now: a timer every `intervalMs` measures how far past
 * its due time it fired. LOW work backs off while this is high, so bulk fetches never make a
 * trading bot's request wait behind JSON parsing.
 */
export class EventLoopLag {
  private lagMs = 0;
  private expected = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Every delay since start, for the longest block and the tail (GetStats). */
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: HISTOGRAM_RESOLUTION_MS });
  private readonly busy = new BusyProbe(HISTOGRAM_RESOLUTION_MS);

  constructor(private readonly intervalMs = 20) {}

  start(): void {
    if (this.timer) return;
    this.histogram.enable();
    this.busy.start();
    this.expected = performance.now() + this.intervalMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - this.expected);
      this.expected = now + this.intervalMs;
    }, this.intervalMs);
    // Measuring must never keep a process alive.
    this.timer.unref();
  }

  stop(): void {
    this.histogram.disable();
    this.busy.stop();
    clearInterval(this.timer);
    this.timer = undefined;
    this.lagMs = 0;
  }

  /** The longest the event loop was blocked since start, ms. */
  get maxMs(): number {
    return this.histogram.count === 0 ? 0 : this.histogram.max / 1e6;
  }

  /**
   * The longest block since start that the event loop's thread spent running, ms (to within 2 ms):
   * the gateway's own work. `maxMs` also counts time the thread waited for a core that the machine
   * gave to other processes.
   */
  get busyMaxMs(): number {
    return this.busy.maxMs;
  }

  /**
   * Own-work blocks since start, counted at each of BUSY_BLOCK_BOUNDS_MS. Unlike the maximum, two
   * readings tell what happened between them: the blocks of a bulk fetch apart from startup's.
   */
  get busyBlocks(): readonly BusyBlockCount[] {
    return BUSY_BLOCK_BOUNDS_MS.map((atLeastMs, i) => ({ atLeastMs, count: this.busy.counts[i]! }));
  }

  /** 99th percentile of the event loop's delay since start, ms. */
  get p99Ms(): number {
    return this.histogram.count === 0 ? 0 : this.histogram.percentile(99) / 1e6;
  }

  /** The most recent measurement, ms. */
  get currentMs(): number {
    return this.lagMs;
  }
}

/**
 * A timer every `intervalMs` that, when it fires late, takes as the block's own work the smaller
 * of the delay and the CPU time the thread used since the previous firing. A block spent waiting
 * for a core adds delay but no CPU time; a loop busy with short callbacks keeps firing on time.
 */
class BusyProbe {
  maxMs = 0;
  /** Blocks of at least BUSY_BLOCK_BOUNDS_MS[i], by i. */
  readonly counts = BUSY_BLOCK_BOUNDS_MS.map(() => 0);
  private running: { timer: NodeJS.Timeout; clock: { read: CpuClock; close(): void } } | undefined;

  constructor(private readonly intervalMs: number) {}

  start(): void {
    if (this.running) return;
    const clock = threadCpuClock();
    let expected = performance.now() + this.intervalMs;
    let cpu = clock.read();
    const timer = setInterval(() => {
      const now = performance.now();
      const cpuNow = clock.read();
      const own = Math.min(now - expected, cpuNow - cpu);
      if (own > this.maxMs) this.maxMs = own;
      for (let i = 0; i < BUSY_BLOCK_BOUNDS_MS.length && own >= BUSY_BLOCK_BOUNDS_MS[i]!; i++) this.counts[i]!++;
      expected = now + this.intervalMs;
      cpu = cpuNow;
    }, this.intervalMs);
    timer.unref();
    this.running = { timer, clock };
  }

  stop(): void {
    if (!this.running) return;
    clearInterval(this.running.timer);
    this.running.clock.close();
    this.running = undefined;
  }
}
