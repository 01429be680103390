/**
 * One candle stream's backlog of topic events. Updates of the forming bucket conflate: at most
 * one waits, the newest (a newer bucket's update replaces an older bucket's, whose closed candle
 * follows anyway). Closed runs are never dropped, but at most `maxClosed` closed candles and gap
 * notices wait; one more and the stream ends with RESOURCE_EXHAUSTED rather than grow.
 */
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../shared/grpc/status-mapping.js";
import type { CandleTopicEvent } from "./candle-topic.js";
import { Wakeup } from "../../shared/wakeup.js";

/** Closed candles and gap notices one stream may have waiting: ~7 days of 1-minute candles. */
export const MAX_QUEUED_CLOSED = 10_000;

export class CandleEventQueue {
  private readonly items: CandleTopicEvent[] = [];
  private closedWaiting = 0;
  private overflowed = false;
  private readonly wakeup = new Wakeup();
  conflated = 0;

  constructor(private readonly maxClosed: number = MAX_QUEUED_CLOSED) {}

  /** Closed candles and gap notices waiting. */
  get pendingClosed(): number {
    return this.closedWaiting;
  }

  get size(): number {
    return this.items.length;
  }

  offer(event: CandleTopicEvent): void {
    if (this.overflowed) return;
    if (event.kind === "forming") {
      const at = this.items.findIndex((e) => e.kind === "forming");
      if (at >= 0) {
        this.items.splice(at, 1);
        this.conflated++;
      }
    } else {
      this.closedWaiting += weight(event);
      if (this.closedWaiting > this.maxClosed) {
        // Nothing more is taken: the taker sees the overflow next.
        this.overflowed = true;
        this.items.length = 0;
      }
    }
    if (!this.overflowed) this.items.push(event);
    this.wakeup.wake();
  }

  /** The next event, waiting for one; rejects once `signal` aborts or the backlog overflowed. */
  async take(signal: AbortSignal): Promise<CandleTopicEvent> {
    for (;;) {
      signal.throwIfAborted();
      if (this.overflowed) {
        throw new StatusError(
          status.RESOURCE_EXHAUSTED,
          `the client fell more than ${this.maxClosed} closed candles behind the live feed; read faster or subscribe again with since_ms`,
        );
      }
      const event = this.items.shift();
      if (event !== undefined) {
        if (event.kind !== "forming") this.closedWaiting -= weight(event);
        return event;
      }
      await this.wakeup.wait(signal);
    }
  }
}

function weight(event: Exclude<CandleTopicEvent, { kind: "forming" }>): number {
  return Math.max(1, event.candles.length + event.gaps.length);
}
