import { status } from "@grpc/grpc-js";
import type { GetCandlesRequest } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "../../shared/errors.js";
import { StatusError } from "../../shared/grpc/status-mapping.js";
import { checkMarketCode } from "../../shared/market-code.js";
import { addBuckets, bucketCeil, bucketCount, bucketStart } from "../../shared/time.js";
import { type Timeframe, timeframeFromProto } from "../../shared/timeframe.js";
import { priorityFromProto } from "../request-priority.js";
import type { Priority } from "../upstream/rate-limiter.js";

/** Upbit opened in 2017; nothing older exists, so older times are a client's mistake. */
export const EARLIEST_TIME_MS = Date.UTC(2017, 0, 1);
/** Clock skew tolerated on times "in the future". */
export const FUTURE_SLACK_MS = 1_000;

/** A validated GetCandles request, in domain terms. */
export type CandleQuery = {
  market: string;
  timeframe: Timeframe;
  priority: Priority;
  fillGaps: boolean;
  includeForming: boolean;
  /** Exclusive end, UTC ms. */
  end: number;
} & (
  | { form: "count"; count: number }
  /** `start` is the first bucket's open time (the request's start rounded up to a bucket). */
  | { form: "range"; start: number }
);

export function iso(ms: bigint): string {
  const n = Number(ms);
  return Number.isFinite(n) && Math.abs(n) < 8.64e15 ? `${ms} (${new Date(n).toISOString()})` : String(ms);
}

/** `value` as ms, or INVALID_ARGUMENT naming `field` when it is before 2017 or after `latest`. */
export function checkTime(field: string, value: bigint, latest: number): number {
  const ms = Number(value);
  if (ms < EARLIEST_TIME_MS) throw new InvalidArgumentError(field, iso(value), "is before 2017-01-01T00:00:00Z: Upbit has no older data");
  if (ms > latest) throw new InvalidArgumentError(field, iso(value), `is in the future (the latest allowed is ${new Date(latest - FUTURE_SLACK_MS).toISOString()})`);
  return ms;
}

function tooLarge(what: string, cap: number): StatusError {
  return new StatusError(
    status.RESOURCE_EXHAUSTED,
    `${what} exceeds the ${cap}-candle limit of one GetCandles answer; use FetchCandleRange to stream bulk history`,
  );
}

/**
 * Checks every field of a GetCandles request; each problem is INVALID_ARGUMENT naming the field
 * (the market's listing is checked later, against the market list), and an answer larger than
 * `maxCandles` is RESOURCE_EXHAUSTED pointing to FetchCandleRange.
 */
export function parseCandleQuery(req: GetCandlesRequest, nowMs: number, maxCandles: number): CandleQuery {
  const market = checkMarketCode(req.market, "market");
  const timeframe = timeframeFromProto(req.timeframe, "timeframe");
  const priority = priorityFromProto(req.priority);
  // A client may name the end of the bucket that is forming now, never anything later.
  const latestEnd = addBuckets(timeframe, nowMs, 1) + FUTURE_SLACK_MS;
  const end = req.endMs === undefined ? nowMs : checkTime("end_ms", req.endMs, latestEnd);
  const common = { market, timeframe, priority, fillGaps: req.fillGaps, includeForming: req.includeForming, end };
  if (req.startMs === undefined) {
    if (req.count === 0) throw new InvalidArgumentError("count", "0", "must be at least 1 (or set start_ms for a range)");
    if (req.count > maxCandles) throw tooLarge(`count ${req.count}`, maxCandles);
    return { ...common, form: "count", count: req.count };
  }
  if (req.count !== 0) throw new InvalidArgumentError("count", String(req.count), "must be 0 when start_ms is set: a request is either a count or a range");
  const start = checkTime("start_ms", req.startMs, nowMs + FUTURE_SLACK_MS);
  if (start >= end) throw new InvalidArgumentError("start_ms", iso(req.startMs), `must be before end_ms ${end} (${new Date(end).toISOString()})`);
  const buckets = bucketCount(timeframe, start, end);
  if (buckets > maxCandles) throw tooLarge(`the range holds ${buckets} buckets and`, maxCandles);
  return { ...common, form: "range", start: bucketCeil(timeframe, start) };
}

/** Open time of the bucket still forming at `nowMs`: never stored as covered. */
export function formingBucketStart(tf: Timeframe, nowMs: number): number {
  return bucketStart(tf, nowMs);
}
