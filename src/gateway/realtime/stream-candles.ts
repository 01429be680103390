/**
 * StreamCandles: closed candles of one market and timeframe from `since_ms` on (store first,
 * missing parts fetched the GetCandles way and cached), a `backfill_complete` marker with the
 * backfill's exclusive end, then live candles: updates of the forming bucket (closed = false,
 * conflated for slow readers) and each bucket's final candle once it closed (closed = true).
 *
 * No gap and no duplicate at the handover: the stream joins the live topic before it reads the
 * backfill, so everything live from then on waits in its queue; after the marker, CandleHandover
 * drops what the backfill already sent and fetches closed buckets neither side has.
 */
import { create } from "@bufbuild/protobuf";
import {
  type StreamCandlesRequest,
  type StreamCandlesResponse,
  StreamCandlesResponseSchema,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError, UnavailableError } from "../../shared/errors.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import { bucketCeil, bucketStart } from "../../shared/time.js";
import { type Timeframe, timeframeFromProto } from "../../shared/timeframe.js";
import { EARLIEST_TIME_MS } from "../candles/candle-request.js";
import type { CandleInit } from "../candles/candle-coordinator.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { CandleEventQueue } from "./candle-event-queue.js";
import { CandleHandover, type HandoverAction } from "./candle-handover.js";
import type { RangePiece } from "./candle-range-reader.js";
import { candleTopicsFor, type CandleTopics } from "./candle-topics.js";
import { untilAborted } from "../../shared/until-aborted.js";

/** Timeframes Upbit's WebSocket streams (API.md §4): `candle.1s` .. `candle.240m`. */
const LIVE_TIMEFRAMES: ReadonlySet<Timeframe> = new Set(["1s", "1m", "3m", "5m", "10m", "15m", "30m", "60m", "240m"]);
/** Clock skew tolerated on a `since_ms` "in the future". */
const FUTURE_SLACK_MS = 1_000;

interface CandleStreamRequest {
  market: string;
  timeframe: Timeframe;
  priority: Priority;
  sinceMs: number | undefined;
}

/** The request's fields checked, each problem INVALID_ARGUMENT naming its field (the market's listing is checked after). */
export function parseStreamCandlesRequest(req: StreamCandlesRequest, nowMs: number): CandleStreamRequest {
  const timeframe = timeframeFromProto(req.timeframe, "timeframe");
  if (!LIVE_TIMEFRAMES.has(timeframe)) {
    throw new InvalidArgumentError(
      "timeframe",
      timeframe,
      "has no live candles: Upbit streams candles of 1 second up to 240 minutes; use GetCandles for days, weeks, months and years",
    );
  }
  let sinceMs: number | undefined;
  if (req.sinceMs !== undefined) {
    sinceMs = Number(req.sinceMs);
    const shown = Number.isFinite(sinceMs) && Math.abs(sinceMs) < 8.64e15 ? `${req.sinceMs} (${new Date(sinceMs).toISOString()})` : String(req.sinceMs);
    if (sinceMs < EARLIEST_TIME_MS) throw new InvalidArgumentError("since_ms", shown, "is before 2017-01-01T00:00:00Z: Upbit has no older data");
    if (sinceMs > nowMs + FUTURE_SLACK_MS) throw new InvalidArgumentError("since_ms", shown, `is in the future (now is ${new Date(nowMs).toISOString()})`);
  }
  return { market: req.market, timeframe, priority: priorityFromProto(req.priority), sinceMs };
}

export function createStreamCandles(deps: GatewayDeps): (req: StreamCandlesRequest, send: Send<StreamCandlesResponse>, ctx: CallContext) => Promise<void> {
  return async (req, send, ctx) => {
    const r = parseStreamCandlesRequest(req, deps.now());
    await deps.markets.require(r.market, "market", r.priority, ctx.signal);
    await runCandleStream(candleTopicsFor(deps), r, send, ctx.signal, deps.hub.closed, deps.now);
  };
}

async function runCandleStream(
  topics: CandleTopics,
  r: CandleStreamRequest,
  send: Send<StreamCandlesResponse>,
  signal: AbortSignal,
  hubClosed: AbortSignal,
  now: () => number,
): Promise<void> {
  if (hubClosed.aborted) throw new UnavailableError("the gateway is shutting down; subscribe again in a moment");
  const stop = AbortSignal.any([signal, hubClosed]);
  const queue = new CandleEventQueue();
  // Before the backfill is read: whatever goes live meanwhile waits in the queue.
  const lease = topics.join(r.market, r.timeframe, r.priority, (e) => queue.offer(e));
  const out = (m: StreamCandlesResponse): Promise<void> => untilAborted(send(m), stop);
  const sendPiece = async (piece: RangePiece): Promise<void> => {
    for (const a of piece.candles.map(toSend).concat(piece.gaps.map((g) => ({ kind: "gap", ...g }) as const)).sort(byTime)) await perform(a);
  };
  const perform = async (a: HandoverAction): Promise<void> => {
    if (a.kind === "send") await out(create(StreamCandlesResponseSchema, { event: { case: "candle", value: a.candle } }));
    else if (a.kind === "gap") {
      await out(
        create(StreamCandlesResponseSchema, {
          event: { case: "gap", value: { market: r.market, startMs: BigInt(a.start), endMs: BigInt(a.end), reason: a.reason } },
        }),
      );
    } else await topics.reader.read(r.market, r.timeframe, a.start, a.end, r.priority, stop, sendPiece);
  };
  try {
    const forming = bucketStart(r.timeframe, now());
    let handover: CandleHandover;
    if (r.sinceMs !== undefined) {
      const start = Math.min(bucketCeil(r.timeframe, r.sinceMs), forming);
      await topics.reader.read(r.market, r.timeframe, start, forming, r.priority, stop, sendPiece);
      await out(create(StreamCandlesResponseSchema, { event: { case: "backfillComplete", value: { endMs: BigInt(forming) } } }));
      handover = new CandleHandover(forming, start);
    } else {
      handover = new CandleHandover(forming, forming);
    }
    for (;;) {
      const event = await queue.take(stop);
      for (const a of handover.plan(event, lease.knownFrom)) await perform(a);
    }
  } catch (e) {
    if (signal.aborted) return;
    if (hubClosed.aborted) throw new UnavailableError("the gateway is shutting down; subscribe again");
    throw e;
  } finally {
    lease.close();
  }
}

function toSend(candle: CandleInit): HandoverAction {
  return { kind: "send", candle };
}

function byTime(a: HandoverAction, b: HandoverAction): number {
  const t = (x: HandoverAction): number => (x.kind === "send" ? Number(x.candle.timeMs) : x.start);
  return t(a) - t(b);
}
