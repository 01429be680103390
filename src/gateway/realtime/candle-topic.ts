/**
 * One live candle topic (market, timeframe), shared by every candle stream of it: one hub
 * listener, one settler deciding when buckets close and whether the feed can vouch for them, one
 * live writer, one REST repair at a time. Its listeners (the streams) get, in order:
 * - `forming`: an update of a bucket not yet closed;
 * - `closed`: a run of closed buckets with their candles (the rest of the run is empty), from the
 *   live feed or, where the feed cannot vouch for it, read the GetCandles way (REST, cached);
 *   `correction` marks buckets already handed out that a disconnect may have made wrong;
 *   Parts that could be neither vouched for nor fetched are listed as its gaps.
 * Closed runs keep bucket order: a run waiting for REST holds back the runs after it, while
 * forming updates of later buckets go out at once.
 */
import type { Logger } from "../../shared/logger.js";
import { bucketStart } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import type { CandleInit } from "../candles/candle-coordinator.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { UpbitCandleUpdate } from "../upstream/upbit-types.js";
import { CandleLiveWriter, type LiveWrite } from "./candle-live-writer.js";
import { type CandleRangeReader, liveCandleToInit, type RangeGap } from "./candle-range-reader.js";
import { CandleSettler, type SettledSegment } from "./candle-settler.js";
import type { RealtimeHub, RealtimeSubscription } from "./realtime-hub.js";
import { PRIORITY_RANK, type RealtimeCandleType, type RealtimeUpdate } from "./realtime-types.js";

/** Least time between two REST repairs of one topic: 1-second candles batch their repairs. */
export const REPAIR_SPACING_MS = 1_000;

export type CandleTopicEvent =
  | { readonly kind: "forming"; readonly candle: CandleInit }
  | {
      readonly kind: "closed";
      readonly start: number;
      readonly end: number;
      /** Ascending; buckets of the run without one (and outside `gaps`) are empty. */
      readonly candles: readonly CandleInit[];
      /** Parts of the run that could be neither vouched for nor fetched. */
      readonly gaps: readonly RangeGap[];
      readonly correction: boolean;
    };

export type CandleTopicListener = (event: CandleTopicEvent) => void;

export interface CandleTopicOptions {
  hub: RealtimeHub;
  market: string;
  timeframe: Timeframe;
  reader: CandleRangeReader;
  store: ConstructorParameters<typeof CandleLiveWriter>[2];
  log: Logger;
  onLiveWritten: (write: LiveWrite) => void;
  settleMs?: number;
  holdMs?: number;
}

type Job =
  | { kind: "emit"; event: CandleTopicEvent }
  | { kind: "repair"; start: number; end: number; correction: boolean };

export class CandleTopic {
  private readonly settler: CandleSettler;
  private readonly writer: CandleLiveWriter;
  private readonly listeners = new Map<CandleTopicListener, Priority>();
  private readonly subscription: RealtimeSubscription;
  private readonly removers: (() => void)[] = [];
  private readonly jobs: Job[] = [];
  private readonly stopper = new AbortController();
  private repairing = false;
  private lastRepairAtMs = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The newest update of a bucket not yet closed: a joining stream's first message. */
  private forming: UpbitCandleUpdate | undefined;

  constructor(
    private readonly o: CandleTopicOptions,
    priority: Priority,
  ) {
    this.settler = new CandleSettler({ timeframe: o.timeframe, ...(o.settleMs === undefined ? {} : { settleMs: o.settleMs }) });
    this.writer = new CandleLiveWriter(o.market, o.timeframe, o.store, o.log, o.onLiveWritten, o.holdMs);
    const type = `candle.${o.timeframe}` as RealtimeCandleType;
    this.subscription = o.hub.subscribe({ type, markets: [o.market], priority, onUpdate: (u) => this.receive(u) });
    // Same synchronous step as subscribe: no update falls between.
    const latest = o.hub.latest(type, o.market);
    if (latest !== undefined) this.receive(latest);
    this.removers.push(
      o.hub.onUpstream("disconnect", (e) => this.disconnected(e.lastFrameAtMs)),
      o.hub.onUpstream("reconnect", (e) => {
        this.settler.reconnected(e.fromMs, e.toMs);
        this.schedule();
      }),
    );
  }

  /** First bucket the topic's closed runs start from; undefined until its first update. */
  get knownFrom(): number | undefined {
    return this.settler.knownFrom;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Adds a listener; it gets the forming candle at once when the topic knows one. */
  listen(listener: CandleTopicListener, priority: Priority): () => void {
    this.listeners.set(listener, priority);
    if (this.forming !== undefined) listener({ kind: "forming", candle: liveCandleToInit(this.forming, false) });
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopper.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.subscription.close();
    for (const remove of this.removers) remove();
    this.listeners.clear();
    await this.writer.close();
  }

  private receive(u: RealtimeUpdate<RealtimeCandleType>): void {
    if (this.stopper.signal.aborted || u.value.market !== this.o.market) return;
    const { fresh, settled } = this.settler.offer({ value: u.value, receivedAtMs: u.receivedAtMs }, this.o.hub.now());
    this.settle(settled);
    if (fresh) {
      this.forming = u.value;
      this.emit({ kind: "forming", candle: liveCandleToInit(u.value, false) });
    }
    this.schedule();
  }

  private disconnected(lastFrameAtMs: number | undefined): void {
    const nowMs = this.o.hub.now();
    const settledEnd = this.settler.settledEnd;
    this.settler.disconnected(lastFrameAtMs, nowMs);
    const from = lastFrameAtMs ?? nowMs;
    this.writer.dropAfter(from);
    // Buckets closed before the drop was noticed, after the last frame, were closed on silence
    // that may have been the dying connection: fetch them again and hand them out corrected.
    const knownFrom = this.settler.knownFrom;
    if (settledEnd !== undefined && knownFrom !== undefined) {
      const start = Math.max(knownFrom, bucketStart(this.o.timeframe, from));
      if (start < settledEnd) this.enqueue({ kind: "repair", start, end: settledEnd, correction: true });
    }
  }

  private settle(segments: readonly SettledSegment[]): void {
    for (const s of segments) {
      if (s.verified) {
        this.writer.offer(s, this.o.hub.now());
        this.enqueue({ kind: "emit", event: { kind: "closed", start: s.start, end: s.end, candles: s.candles.map((c) => liveCandleToInit(c, true)), gaps: [], correction: false } });
      } else {
        this.enqueue({ kind: "repair", start: s.start, end: s.end, correction: false });
      }
      if (this.forming !== undefined && this.forming.timeMs < s.end) this.forming = undefined;
    }
  }

  private emit(event: CandleTopicEvent): void {
    for (const listener of [...this.listeners.keys()]) {
      try {
        listener(event);
      } catch (e) {
        this.o.log.error("candle stream listener failed", { market: this.o.market, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private enqueue(job: Job): void {
    this.jobs.push(job);
    this.drain();
  }

  /** Emits queued runs in order, synchronously up to the first that needs REST. */
  private drain(): void {
    while (!this.repairing && this.jobs.length > 0) {
      const job = this.jobs[0]!;
      if (job.kind === "emit") {
        this.jobs.shift();
        this.emit(job.event);
        continue;
      }
      this.repairing = true;
      void this.repair().finally(() => {
        this.repairing = false;
        if (!this.stopper.signal.aborted) this.drain();
      });
    }
  }

  /** Fetches the first queued repair, with every run queued right behind it, in one range. */
  private async repair(): Promise<void> {
    const signal = this.stopper.signal;
    const waitMs = this.lastRepairAtMs + REPAIR_SPACING_MS - this.o.hub.now();
    if (waitMs > 0) await abortableDelay(waitMs, signal);
    if (signal.aborted) return;
    const first = this.jobs.shift() as Extract<Job, { kind: "repair" }>;
    let end = first.end;
    // Runs right after it come along in the same call; their live candles are re-read, not lost.
    while (!first.correction) {
      const next = this.jobs[0];
      if (next === undefined) break;
      const nextStart = next.kind === "repair" ? (next.correction ? undefined : next.start) : next.event.kind === "closed" ? next.event.start : undefined;
      if (nextStart !== end) break;
      end = next.kind === "repair" ? next.end : (next.event as Extract<CandleTopicEvent, { kind: "closed" }>).end;
      this.jobs.shift();
    }
    this.lastRepairAtMs = this.o.hub.now();
    try {
      await this.o.reader.read(this.o.market, this.o.timeframe, first.start, end, this.bestPriority(), signal, async (piece) => {
        this.emit({ kind: "closed", start: piece.start, end: piece.end, candles: piece.candles, gaps: piece.gaps, correction: first.correction });
      });
    } catch {
      // Only a cancellation rejects (fetch failures arrive as gaps); the topic is closing.
    }
  }

  private bestPriority(): Priority {
    let best: Priority = "LOW";
    for (const p of this.listeners.values()) if (PRIORITY_RANK[p] < PRIORITY_RANK[best]) best = p;
    return best;
  }

  /** Wakes up when the settler or the writer next has something due. */
  private schedule(): void {
    if (this.stopper.signal.aborted) return;
    const deadlines = [this.settler.nextDeadline(), this.writer.nextDeadline()].filter((d): d is number => d !== undefined);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (deadlines.length === 0) return;
    const dueInMs = Math.max(0, Math.min(...deadlines) - this.o.hub.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const nowMs = this.o.hub.now();
      this.settle(this.settler.advance(nowMs));
      this.writer.flushDue(nowMs);
      this.schedule();
    }, dueInMs + 1);
    this.timer.unref?.();
  }
}

/** Resolves after `ms` or as soon as `signal` aborts: a repair's rate spacing, not a synchronisation. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
