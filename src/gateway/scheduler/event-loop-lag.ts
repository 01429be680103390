import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/** Sampling period of the delay histogram, ms: a block is measured to within this. */
const HISTOGRAM_RESOLUTION_MS = 2;

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

  constructor(private readonly intervalMs = 20) {}

  start(): void {
    if (this.timer) return;
    this.histogram.enable();
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
    clearInterval(this.timer);
    this.timer = undefined;
    this.lagMs = 0;
  }

  /** The longest the event loop was blocked since start, ms. */
  get maxMs(): number {
    return this.histogram.count === 0 ? 0 : this.histogram.max / 1e6;
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
