import type { ScheduleFn } from "../../src/gateway/upstream/rate-limiter.js";

/** A clock that moves only when told; timers fire in time order as it passes them. */
export class FakeClock {
  t = 1_773_240_000_250; // deliberately not on a second boundary
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  readonly now = (): number => this.t;

  readonly schedule: ScheduleFn = (fn, delayMs) => {
    const timer = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  };

  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers and letting promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
