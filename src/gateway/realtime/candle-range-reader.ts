/**
 * Closed candles of a range, the way GetCandles serves them: covered parts from the store,
 * missing parts fetched through the same window planning (so they are cached), ascending. Used
 * by the candle stream for its backfill, for closed buckets the live feed cannot vouch for, and
 * for the buckets between a backfill and the live feed.
 */
import { GapReason } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { Logger } from "../../shared/logger.js";
import { addBuckets, bucketCount } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import { type CandleCoordinator, type CandleInit } from "../candles/candle-coordinator.js";
import { candleInits } from "../candles/candles-response-encoding.js";
import { MetaRecorder } from "../response-meta.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { UpbitCandleUpdate } from "../upstream/upbit-types.js";
import { spelledValue } from "../../shared/decimal-text.js";

/** Buckets read per coordinator call: a long backfill goes out in pieces, not all in memory. */
export const RANGE_CHUNK_BUCKETS = 10_000;

export interface RangeGap {
  start: number;
  end: number;
  reason: GapReason;
}

export interface RangePiece {
  /** The buckets this piece answers for, `[start, end)`. */
  start: number;
  end: number;
  /** Closed candles, ascending. */
  candles: CandleInit[];
  /** Parts of the piece that could not be verified (informational gaps left out). */
  gaps: RangeGap[];
}

export class CandleRangeReader {
  constructor(
    private readonly coordinator: Pick<CandleCoordinator, "serve">,
    private readonly log: Logger,
  ) {}

  /**
   * Reads `[start, end)` of closed buckets piece by piece, handing each to `onPiece` before the
   * next is read (the caller's sends pace the reads). Failures to reach upstream become gaps of
   * the piece, so a stream reports them instead of ending; a cancelled `signal` rejects.
   */
  async read(
    market: string,
    timeframe: Timeframe,
    start: number,
    end: number,
    priority: Priority,
    signal: AbortSignal,
    onPiece: (piece: RangePiece) => Promise<void>,
  ): Promise<void> {
    for (let from = start; from < end; ) {
      const to = bucketCount(timeframe, from, end) > RANGE_CHUNK_BUCKETS ? addBuckets(timeframe, from, RANGE_CHUNK_BUCKETS) : end;
      await onPiece(await this.piece(market, timeframe, from, to, priority, signal));
      from = to;
    }
  }

  private async piece(market: string, timeframe: Timeframe, start: number, end: number, priority: Priority, signal: AbortSignal): Promise<RangePiece> {
    const meta = new MetaRecorder(priority);
    signal.throwIfAborted();
    // A child signal per piece: calls below may leave abort listeners on the signal they get,
    // which on a stream's long-lived signal would pile up for as long as the stream runs.
    const own = new AbortController();
    const onAbort = (): void => own.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const { candles } = await this.coordinator.serve(
        { market, timeframe, priority, fillGaps: false, includeForming: false, end, form: "range", start },
        meta,
        own.signal,
      );
      const gaps = meta.gaps.filter((g) => g.reason !== GapReason.STORE_UNAVAILABLE).map((g) => ({ start: g.start, end: g.end, reason: g.reason }));
      return { start, end, candles: candleInits(candles), gaps };
    } catch (e) {
      if (signal.aborted) throw e;
      this.log.warn("closed candles for a candle stream could not be fetched", { market, timeframe, start, end, error: e instanceof Error ? e.message : String(e) });
      return { start, end, candles: [], gaps: [{ start, end, reason: GapReason.STREAM_INTERRUPTED }] };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** Fraction digits of Upbit's REST prices and amounts (API.md §5). */
const REST_FRACTION_DIGITS = 8;

/**
 * `n` as Upbit's REST spells it: the WebSocket may carry more digits, and a candle must read the
 * same whether it came live or from REST (and the store keeps one spelling).
 */
export function restSpelling(n: number): number {
  return spelledValue(n, REST_FRACTION_DIGITS);
}

/** A live candle as the public API carries it, spelled as REST spells it. */
export function liveCandleToInit(c: UpbitCandleUpdate, closed: boolean): CandleInit {
  const v = restSpelling;
  return { timeMs: BigInt(c.timeMs), open: v(c.open), high: v(c.high), low: v(c.low), close: v(c.close), volume: v(c.volume), quoteVolume: v(c.quoteVolume), synthetic: false, closed };
}
