/**
 * One subscriber's backlog: the latest unsent value per market, never more. A client that reads
 * slower than the market moves gets the newest state of each market as it catches up, and its
 * memory stays bounded by the number of markets it asked for. Markets are served in the order
 * they became pending, so a busy market cannot starve a quiet one. `minIntervalMs` spaces out
 * two sends of one market; whatever arrives in between is conflated into the next send.
 */
import { Wakeup } from "../../shared/wakeup.js";


export interface QueuedItem<V> {
  market: string;
  value: V;
  /** The first value sent for this market: the latest known state, not a live update. */
  snapshot: boolean;
}

export interface ConflatingQueueStats {
  pending: number;
  /** Values replaced by a newer one before they were taken. */
  conflated: number;
  taken: number;
}

export class ConflatingQueue<V> {
  private readonly pending = new Map<string, V>();
  private readonly lastTakenAtMs = new Map<string, number>();
  private readonly wakeup = new Wakeup();
  private conflated = 0;
  private taken = 0;

  constructor(
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the market's newest value, replacing any unsent one (it keeps its turn). */
  offer(market: string, value: V): void {
    if (this.pending.has(market)) this.conflated++;
    this.pending.set(market, value);
    this.wakeup.wake();
  }

  get size(): number {
    return this.pending.size;
  }

  stats(): ConflatingQueueStats {
    return { pending: this.pending.size, conflated: this.conflated, taken: this.taken };
  }

  /**
   * The next value due, waiting for one to arrive or for a market's interval to pass. Rejects
   * with the signal's reason once `signal` aborts. One taker at a time.
   */
  async take(signal: AbortSignal): Promise<QueuedItem<V>> {
    for (;;) {
      signal.throwIfAborted();
      const nowMs = this.now();
      let earliestDueMs = Number.POSITIVE_INFINITY;
      for (const [market, value] of this.pending) {
        const last = this.lastTakenAtMs.get(market);
        const dueMs = last === undefined ? nowMs : last + this.minIntervalMs;
        if (dueMs <= nowMs) {
          this.pending.delete(market);
          this.lastTakenAtMs.set(market, nowMs);
          this.taken++;
          return { market, value, snapshot: last === undefined };
        }
        earliestDueMs = Math.min(earliestDueMs, dueMs);
      }
      await this.wakeup.wait(signal, earliestDueMs - nowMs);
    }
  }
}
