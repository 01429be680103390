/**
 * How late the event loop runs timers right now: a timer every `intervalMs` measures how far past
 * its due time it fired. LOW work backs off while this is high, so bulk fetches never make a
 * trading bot's request wait behind JSON parsing.
 */
export class EventLoopLag {
  private lagMs = 0;
  private expected = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 20) {}

  start(): void {
    if (this.timer) return;
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
    clearInterval(this.timer);
    this.timer = undefined;
    this.lagMs = 0;
  }

  /** The most recent measurement, ms. */
  get currentMs(): number {
    return this.lagMs;
  }
}
