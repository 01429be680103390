import type { ScheduleFn } from "../upstream/rate-limiter.js";

export interface LowPriorityGateOptions {
  /** LOW upstream calls in flight at once, gateway-wide. Default 2. */
  concurrency?: number;
  /** True while higher-priority work waits for upstream budget. */
  higherPriorityWaiting: () => boolean;
  /** Current event-loop lag, ms. */
  eventLoopLagMs: () => number;
  /** LOW waits while the lag is above this. Default 50 ms. */
  lagThresholdMs?: number;
  /** A LOW call that waited this long goes anyway (with the concurrency limit): LOW never starves. Default 10,000 ms. */
  agingMs?: number;
  /** How often a waiting LOW call looks again. Default 25 ms. */
  recheckMs?: number;
  now?: () => number;
  schedule?: ScheduleFn;
}

interface Waiter {
  readonly since: number;
  readonly admit: () => void;
}

const defaultSchedule: ScheduleFn = (callback, delayMs) => {
  const handle = setTimeout(callback, delayMs);
  return () => clearTimeout(handle);
};

/**
 * The PROTECTED path: LOW (backtest) calls pass this gate before they ask the rate limiter for
 * budget. They go one `concurrency` at a time, are held (never failed) while higher-priority
 * work waits or the event loop lags, and go anyway once they have waited `agingMs`.
 */
export class LowPriorityGate {
  private readonly concurrency: number;
  private readonly lagThresholdMs: number;
  private readonly agingMs: number;
  private readonly recheckMs: number;
  private readonly now: () => number;
  private readonly schedule: ScheduleFn;
  private readonly waiters: Waiter[] = [];
  private inFlight = 0;
  private cancelRecheck: (() => void) | undefined;

  constructor(private readonly options: LowPriorityGateOptions) {
    this.concurrency = options.concurrency ?? 2;
    this.lagThresholdMs = options.lagThresholdMs ?? 50;
    this.agingMs = options.agingMs ?? 10_000;
    this.recheckMs = options.recheckMs ?? 25;
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /** Calls admitted and not yet released, and calls waiting. */
  stats(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiters.length };
  }

  /** Waits for admission; resolves with the release to call when the upstream call is done. */
  admit(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason as Error);
      };
      const waiter: Waiter = {
        since: this.now(),
        admit: () => {
          signal?.removeEventListener("abort", onAbort);
          this.inFlight++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.inFlight--;
            this.pump();
          });
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private yieldsToOthers(): boolean {
    return this.options.higherPriorityWaiting() || this.options.eventLoopLagMs() > this.lagThresholdMs;
  }

  private pump(): void {
    this.cancelRecheck?.();
    this.cancelRecheck = undefined;
    while (this.waiters.length > 0 && this.inFlight < this.concurrency) {
      const head = this.waiters[0]!;
      if (this.yieldsToOthers() && this.now() - head.since < this.agingMs) break;
      this.waiters.shift();
      head.admit();
    }
    if (this.waiters.length > 0 && this.inFlight < this.concurrency) {
      this.cancelRecheck = this.schedule(() => {
        this.cancelRecheck = undefined;
        this.pump();
      }, this.recheckMs);
    }
  }
}
