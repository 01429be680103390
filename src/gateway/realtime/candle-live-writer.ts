/**
 * Writes the closed candles the live feed vouches for into the store, with the coverage they
 * prove, so the store grows from the live feed (one writer per candle topic, not per client).
 *
 * Segments closed by a later bucket's update are written at once: that update proves the feed
 * was alive after them. Segments closed only because time passed may hide a silent connection
 * the WebSocket client has not yet taken for dead: they are held for `holdMs` (longer than the
 * client's dead detection) and dropped if a disconnect reports a loss window touching them.
 * Writes run one at a time; a failed write only logs (the REST path fills what is missing).
 */
import { allocateColumns } from "../../shared/candle-columns.js";
import type { Interval } from "../../shared/intervals.js";
import type { Logger } from "../../shared/logger.js";
import type { Timeframe } from "../../shared/timeframe.js";
import type { StoreClient } from "../store-client.js";
import type { UpbitCandleUpdate } from "../upstream/upbit-types.js";
import { DEFAULT_DEAD_AFTER_MS } from "../upstream/upbit-websocket-client.js";
import { restSpelling } from "./candle-range-reader.js";

/**
 * Longer than the WebSocket client's dead detection (DEFAULT_DEAD_AFTER_MS of silence) plus its
 * timer slack: a segment closed by time is written only once a silent connection would have been
 * reported. Its due time comes later than the dead timer's, so a late event loop fires them in order.
 */
export const DEFAULT_TIME_CLOSED_HOLD_MS = DEFAULT_DEAD_AFTER_MS + 5_000;

/** What one write put into the store (tests, diagnostics). */
export interface LiveWrite {
  market: string;
  timeframe: Timeframe;
  verified: Interval;
  candles: number;
}

export interface VerifiedSegment {
  start: number;
  end: number;
  candles: readonly UpbitCandleUpdate[];
  byTime: boolean;
}

export class CandleLiveWriter {
  private readonly held: { segment: VerifiedSegment; dueAtMs: number }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly market: string,
    private readonly timeframe: Timeframe,
    private readonly store: Pick<StoreClient, "write">,
    private readonly log: Logger,
    private readonly onWritten: (write: LiveWrite) => void,
    private readonly holdMs: number = DEFAULT_TIME_CLOSED_HOLD_MS,
  ) {}

  offer(segment: VerifiedSegment, nowMs: number): void {
    if (this.closed) return;
    if (segment.byTime) this.held.push({ segment, dueAtMs: nowMs + this.holdMs });
    else this.write(segment);
  }

  /** Data after `fromMs` may be lost: held segments reaching past it are left to REST. */
  dropAfter(fromMs: number): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i]!.segment.end > fromMs) this.held.splice(i, 1);
  }

  /** Writes the held segments whose hold is over. */
  flushDue(nowMs: number): void {
    while (this.held.length > 0 && this.held[0]!.dueAtMs <= nowMs) this.write(this.held.shift()!.segment);
  }

  nextDeadline(): number | undefined {
    return this.held[0]?.dueAtMs;
  }

  /** Stops writing; held segments are dropped (not yet proven). Resolves when the last write ended. */
  close(): Promise<void> {
    this.closed = true;
    this.held.length = 0;
    return this.chain;
  }

  private write(segment: VerifiedSegment): void {
    const n = segment.candles.length;
    const columns = allocateColumns(n);
    segment.candles.forEach((c, i) => {
      columns.time[i] = BigInt(c.timeMs);
      columns.open[i] = restSpelling(c.open);
      columns.high[i] = restSpelling(c.high);
      columns.low[i] = restSpelling(c.low);
      columns.close[i] = restSpelling(c.close);
      columns.volume[i] = restSpelling(c.volume);
      columns.quoteVolume[i] = restSpelling(c.quoteVolume);
    });
    const verified = { start: segment.start, end: segment.end };
    this.chain = this.chain.then(async () => {
      try {
        await this.store.write([{ market: this.market, timeframe: this.timeframe, candles: columns, verified: [verified] }]);
        this.onWritten({ market: this.market, timeframe: this.timeframe, verified, candles: n });
      } catch (e) {
        this.log.warn("live candles could not be written to the store", { market: this.market, timeframe: this.timeframe, error: e instanceof Error ? e.message : String(e) });
      }
    });
  }
}
