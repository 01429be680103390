/**
 * Decides, for one live candle topic (market, timeframe), when each bucket is closed and whether
 * what the live feed said about it can be trusted. Pure: fed with updates, upstream connection
 * events and the clock; no timers, no I/O (candle-topic.ts drives it).
 *
 * Upbit's candle feed (API.md §4.7) pushes the forming candle at most once per second and only
 * after a trade; a bucket closes only implicitly. So:
 * - a bucket is closed when an update for a later bucket arrives, or when `settleMs` passed after
 *   its end without one (a trade just before the end would have been pushed by then);
 * - the last update of a bucket closed by a later bucket's update is final only if it was pushed
 *   after the bucket's end, or so long before the end that a later trade in the bucket would have
 *   been pushed before the end (one push interval plus a margin). Otherwise the push that would
 *   have carried the bucket's last trades may have carried the next bucket instead: uncertain;
 * - buckets without updates between settled ones are empty (Upbit sends no empty candles);
 * - a bucket touched by a window in which data may have been lost (an upstream disconnect, or
 *   the connection still being down) is not known.
 * Everything not known is handed back as an unverified segment for the REST path to fetch.
 */
import type { Interval } from "../../shared/intervals.js";
import { bucketStart, fixedBucketMs } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import type { UpbitCandleUpdate } from "../upstream/upbit-types.js";

/** Upbit pushes a candle at most once per this long (API.md §4.7). */
export const UPBIT_CANDLE_PUSH_MS = 1_000;
/** Slack on the push interval for the server's feed tick and network jitter. */
export const DEFAULT_FINALITY_MARGIN_MS = 400;
/** How long after a bucket's end the feed stays silent before the bucket counts as closed. */
export const DEFAULT_SETTLE_MS = 2_000;

export interface LiveCandle {
  readonly value: UpbitCandleUpdate;
  /** When the hub received it, UTC ms. */
  readonly receivedAtMs: number;
}

/** A run of consecutive settled buckets `[start, end)`. */
export type SettledSegment =
  /**
   * Every bucket is known: `candles` (ascending) are those with trades, the rest are empty.
   * `byTime`: closed because time passed, not because a later update proved the feed alive.
   */
  | { readonly start: number; readonly end: number; readonly verified: true; readonly candles: readonly UpbitCandleUpdate[]; readonly byTime: boolean }
  /** Not known from the feed: to be fetched by REST. */
  | { readonly start: number; readonly end: number; readonly verified: false };

export interface CandleSettlerOptions {
  /** A timeframe the WebSocket serves (1s .. 240m): fixed-length buckets. */
  timeframe: Timeframe;
  settleMs?: number;
  finalityMarginMs?: number;
}

export class CandleSettler {
  readonly bucketMs: number;
  private readonly settleMs: number;
  private readonly finalityMarginMs: number;
  /** Exclusive end of the settled buckets; undefined until the first update. */
  private settled: number | undefined;
  /** First bucket this settler ever settles from (the first update's bucket). */
  private from: number | undefined;
  /** Latest update per unsettled bucket. */
  private readonly pending = new Map<number, LiveCandle>();
  /** Reported windows `[start, end)` in which data may have been lost. */
  private readonly lost: Interval[] = [];
  /** Last frame before a drop not yet followed by a reconnect: data after it may be lost. */
  private downSinceMs: number | undefined;

  constructor(private readonly options: CandleSettlerOptions) {
    const len = fixedBucketMs(options.timeframe);
    if (len === undefined) throw new RangeError(`live candles need a fixed-length timeframe, got ${options.timeframe}`);
    this.bucketMs = len;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.finalityMarginMs = options.finalityMarginMs ?? DEFAULT_FINALITY_MARGIN_MS;
  }

  /** First bucket settled segments start from; undefined until the first update. */
  get knownFrom(): number | undefined {
    return this.from;
  }

  /** Exclusive end of what is settled; undefined until the first update. */
  get settledEnd(): number | undefined {
    return this.settled;
  }

  /**
   * Takes an update. Returns whether it is about a bucket not yet settled (a forming candle to
   * pass on) and the segments it closed, in order.
   */
  offer(candle: LiveCandle, nowMs: number): { fresh: boolean; settled: SettledSegment[] } {
    const t = candle.value.timeMs;
    if (bucketStart(this.options.timeframe, t) !== t) return { fresh: false, settled: [] };
    if (this.settled === undefined) this.settled = this.from = t;
    // A resent snapshot (e.g. after a reconnect) of a bucket already settled: the REST path owns it.
    if (t < this.settled) return { fresh: false, settled: this.advance(nowMs) };
    this.pending.set(t, candle);
    return { fresh: true, settled: this.closeBefore(t, false) };
  }

  /** Closes the buckets whose time has passed; call when `nextDeadline` comes. */
  advance(nowMs: number): SettledSegment[] {
    if (this.settled === undefined) return [];
    // A bucket closes by time once settleMs passed after its end.
    return this.closeBefore(bucketStart(this.options.timeframe, nowMs - this.settleMs - this.bucketMs) + this.bucketMs, true);
  }

  /** When `advance` next has something to close; undefined until the first update. */
  nextDeadline(): number | undefined {
    return this.settled === undefined ? undefined : this.settled + this.bucketMs + this.settleMs;
  }

  /** The upstream connection dropped; `lastFrameAtMs`: the last frame received before. */
  disconnected(lastFrameAtMs: number | undefined, nowMs: number): void {
    this.downSinceMs ??= lastFrameAtMs ?? nowMs;
  }

  /** Data flows again; `[fromMs, toMs]` is the window that may be lost. */
  reconnected(fromMs: number, toMs: number): void {
    this.downSinceMs = undefined;
    this.lost.push({ start: fromMs, end: toMs + 1 });
  }

  /** Whether bucket `t` overlaps a window of possibly lost data, reported or still open. */
  touchedByLoss(t: number): boolean {
    const end = t + this.bucketMs;
    if (this.downSinceMs !== undefined && end > this.downSinceMs) return true;
    return this.lost.some((w) => t < w.end && end > w.start);
  }

  private closeBefore(target: number, byTime: boolean): SettledSegment[] {
    const from = this.settled;
    if (from === undefined || target <= from) return [];
    const out: SettledSegment[] = [];
    let run: { start: number; verified: boolean; candles: UpbitCandleUpdate[] } | undefined;
    const finish = (end: number): void => {
      if (run === undefined) return;
      out.push(run.verified ? { start: run.start, end, verified: true, candles: run.candles, byTime } : { start: run.start, end, verified: false });
      run = undefined;
    };
    for (let t = from; t < target; t += this.bucketMs) {
      const candle = this.pending.get(t);
      this.pending.delete(t);
      const known = !this.touchedByLoss(t) && (candle === undefined || byTime || this.isFinal(t, candle));
      if (run !== undefined && run.verified !== known) finish(t);
      run ??= { start: t, verified: known, candles: [] };
      if (known && candle !== undefined) run.candles.push(candle.value);
    }
    finish(target);
    this.settled = target;
    // Windows wholly before what is settled no longer matter.
    for (let i = this.lost.length - 1; i >= 0; i--) if (this.lost[i]!.end <= target) this.lost.splice(i, 1);
    return out;
  }

  /** The bucket's last update carries all its trades (see the module comment). */
  private isFinal(t: number, candle: LiveCandle): boolean {
    const end = t + this.bucketMs;
    return candle.receivedAtMs >= end || candle.receivedAtMs < end - UPBIT_CANDLE_PUSH_MS - this.finalityMarginMs;
  }
}
