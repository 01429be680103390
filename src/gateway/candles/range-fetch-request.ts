import type { FetchCandleRangeRequest } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "../../shared/errors.js";
import { checkMarketCode } from "../../shared/market-code.js";
import { addBuckets, bucketCeil } from "../../shared/time.js";
import { type Timeframe, timeframeFromProto } from "../../shared/timeframe.js";
import { priorityFromProto } from "../request-priority.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { checkTime, FUTURE_SLACK_MS, iso } from "./candle-request.js";

/** Markets one FetchCandleRange call may ask for. */
export const MAX_RANGE_FETCH_MARKETS = 100;
/** What PRIORITY_UNSPECIFIED means for FetchCandleRange: bulk history yields to interactive calls. */
export const RANGE_FETCH_DEFAULT_PRIORITY: Priority = "LOW";
export const DEFAULT_BATCH_SIZE = 10_000;
export const MAX_BATCH_SIZE = 100_000;

/** A validated FetchCandleRange request, in domain terms. */
export interface RangeFetch {
  readonly markets: readonly string[];
  readonly timeframe: Timeframe;
  /** Open time of the first bucket (the request's start rounded up to a bucket). */
  readonly start: number;
  /** Exclusive end, UTC ms, as asked. */
  readonly end: number;
  readonly priority: Priority;
  readonly batchSize: number;
}

/** Checks every field; each problem is INVALID_ARGUMENT naming the field (listing is checked later). */
export function parseRangeFetch(req: FetchCandleRangeRequest, nowMs: number): RangeFetch {
  if (req.markets.length === 0) throw new InvalidArgumentError("markets", "[]", "must name at least one market");
  if (req.markets.length > MAX_RANGE_FETCH_MARKETS) {
    throw new InvalidArgumentError("markets", `${req.markets.length} markets`, `must name at most ${MAX_RANGE_FETCH_MARKETS} markets; split the fetch`);
  }
  const seen = new Set<string>();
  const markets = req.markets.map((m, i) => {
    const code = checkMarketCode(m, `markets[${i}]`);
    if (seen.has(code)) throw new InvalidArgumentError(`markets[${i}]`, code, "is named twice");
    seen.add(code);
    return code;
  });
  const timeframe = timeframeFromProto(req.timeframe, "timeframe");
  if (req.startMs === 0n) throw new InvalidArgumentError("start_ms", "0", "is required: FetchCandleRange takes a range [start_ms, end_ms)");
  if (req.endMs === 0n) throw new InvalidArgumentError("end_ms", "0", "is required: FetchCandleRange takes a range [start_ms, end_ms)");
  const end = checkTime("end_ms", req.endMs, addBuckets(timeframe, nowMs, 1) + FUTURE_SLACK_MS);
  const start = checkTime("start_ms", req.startMs, nowMs + FUTURE_SLACK_MS);
  if (start >= end) throw new InvalidArgumentError("start_ms", iso(req.startMs), `must be before end_ms ${end} (${new Date(end).toISOString()})`);
  if (req.batchSize > MAX_BATCH_SIZE) throw new InvalidArgumentError("batch_size", String(req.batchSize), `must be at most ${MAX_BATCH_SIZE} (0 = ${DEFAULT_BATCH_SIZE})`);
  return {
    markets,
    timeframe,
    start: bucketCeil(timeframe, start),
    end,
    priority: priorityFromProto(req.priority, RANGE_FETCH_DEFAULT_PRIORITY),
    batchSize: req.batchSize || DEFAULT_BATCH_SIZE,
  };
}
