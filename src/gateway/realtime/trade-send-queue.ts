/**
 * The messages of one trade stream waiting for the client to read them, first in first out.
 * Trades are never conflated, so this is the backlog a slow consumer builds up; the stream
 * bounds it (see stream-trades.ts) and this queue only keeps order, counts, and wakes the sender.
 */
import { Wakeup } from "../../shared/wakeup.js";

interface Entry<M> {
  readonly message: M;
  readonly queuedAtMs: number;
}

export class TradeSendQueue<M> {
  private entries: Entry<M>[] = [];
  /** Index of the oldest entry: taking from the front must not be O(n) per message. */
  private head = 0;
  private readonly wakeup = new Wakeup();

  constructor(private readonly now: () => number = Date.now) {}

  get length(): number {
    return this.entries.length - this.head;
  }

  /** When the oldest waiting message was queued, UTC ms; undefined when empty. */
  get oldestQueuedAtMs(): number | undefined {
    return this.entries[this.head]?.queuedAtMs;
  }

  push(message: M): void {
    this.entries.push({ message, queuedAtMs: this.now() });
    this.wakeup.wake();
  }

  /** Drops everything (the stream ended): the memory goes at once, not when the call is collected. */
  clear(): void {
    this.entries = [];
    this.head = 0;
  }

  /** The oldest message, waiting for one if none is queued; rejects once `signal` aborts. One taker at a time. */
  async take(signal: AbortSignal): Promise<M> {
    for (;;) {
      signal.throwIfAborted();
      const entry = this.entries[this.head];
      if (entry !== undefined) {
        this.head++;
        // Compact once the taken prefix dominates, so the array stays proportional to the backlog.
        if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
          this.entries = this.entries.slice(this.head);
          this.head = 0;
        }
        return entry.message;
      }
      await this.wakeup.wait(signal);
    }
  }
}
