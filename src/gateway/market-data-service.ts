import type { handleServerStreamingCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CallContext, type Send, serverStream, unary } from "../shared/grpc/handlers.js";
import { CallerPolicy } from "./api-keys.js";
import { createFetchCandleRange } from "./candles/fetch-candle-range.js";
import { RANGE_FETCH_DEFAULT_PRIORITY } from "./candles/range-fetch-request.js";
import { createGetCandles } from "./candles/get-candles.js";
import type { GatewayDeps } from "./gateway-deps.js";
import { createGetStats, type GatewayActivity } from "./get-stats.js";
import { createStreamCandles } from "./realtime/stream-candles.js";
import { createStreamOrderbooks } from "./realtime/stream-orderbooks.js";
import { createStreamTickers } from "./realtime/stream-tickers.js";
import { createStreamTrades } from "./realtime/stream-trades.js";
import { DEFAULT_PRIORITY } from "./request-priority.js";
import { CallGuard } from "./security/call-guard.js";
import { StreamQuota } from "./security/stream-quota.js";
import { createSnapshotHandlers } from "./snapshots/snapshot-handlers.js";
import { unimplementedMarketDataService } from "./unimplemented-market-data-service.js";
import type { Priority } from "./upstream/rate-limiter.js";
import { upstreamFailureStatus } from "./upstream-status.js";

/** The public service: each implemented RPC routed to its module, the rest UNIMPLEMENTED. */
export function marketDataService(deps: GatewayDeps, shutdown: AbortSignal, eventLoop: GatewayActivity["eventLoop"]): UntypedServiceImplementation {
  const startedAtMs = deps.now();
  let activeStreams = 0;
  const name = (m: string) => `${MarketDataService.typeName}/${m}`;
  // Upstream failures become statuses here, once, for every handler.
  const handle =
    <Req, Res>(fn: (req: Req, ctx: CallContext) => Promise<Res>) =>
    (req: Req, ctx: CallContext): Promise<Res> =>
      fn(req, ctx).catch((e: unknown) => Promise.reject(upstreamFailureStatus(e, deps.now())));
  const handleStream =
    <Req, Res>(fn: (req: Req, send: Send<Res>, ctx: CallContext) => Promise<void>) =>
    (req: Req, send: Send<Res>, ctx: CallContext): Promise<void> => {
      activeStreams++;
      return fn(req, send, ctx)
        .catch((e: unknown) => Promise.reject(upstreamFailureStatus(e, deps.now())))
        .finally(() => activeStreams--);
    };
  // Every RPC passes the guard (API key, priority ceiling, markets per call, streams per client)
  // before its handler; health and reflection are other services and stay open.
  const guard = new CallGuard({
    policy: new CallerPolicy(deps.config.apiKeys),
    streams: new StreamQuota(deps.config.maxStreamsPerClient),
    maxMarketsPerCall: deps.config.maxMarketsPerCall,
  });
  const guarded = <Req extends object, Res>(method: string, fn: (req: Req, ctx: CallContext) => Promise<Res>, rpcDefault: Priority | undefined = DEFAULT_PRIORITY) =>
    unary(deps.log, name(method), shutdown, guard.unary(rpcDefault, handle(fn)));
  // A stream's client may be its peer, which only the grpc-js call knows: the handler is bound per call.
  const guardedStream =
    <Req extends object, Res>(method: string, fn: (req: Req, send: Send<Res>, ctx: CallContext) => Promise<void>, rpcDefault: Priority = DEFAULT_PRIORITY): handleServerStreamingCall<Req, Res> =>
    (call) =>
      serverStream(deps.log, name(method), shutdown, guard.stream(call.getPeer(), rpcDefault, handleStream(fn)))(call);
  const snapshots = createSnapshotHandlers(deps);
  return {
    ...unimplementedMarketDataService(),
    listMarkets: guarded("ListMarkets", snapshots.listMarkets),
    getTickers: guarded("GetTickers", snapshots.getTickers),
    getOrderbooks: guarded("GetOrderbooks", snapshots.getOrderbooks),
    getTrades: guarded("GetTrades", snapshots.getTrades),
    getCandles: guarded("GetCandles", createGetCandles(deps)),
    // GetStats has no priority: the guard only asks for a key.
    getStats: guarded("GetStats", createGetStats(deps, { startedAtMs, activeStreams: () => activeStreams, eventLoop }), undefined),
    fetchCandleRange: guardedStream("FetchCandleRange", createFetchCandleRange(deps), RANGE_FETCH_DEFAULT_PRIORITY),
    streamTickers: guardedStream("StreamTickers", createStreamTickers(deps)),
    streamOrderbooks: guardedStream("StreamOrderbooks", createStreamOrderbooks(deps)),
    streamCandles: guardedStream("StreamCandles", createStreamCandles(deps)),
    streamTrades: guardedStream("StreamTrades", createStreamTrades(deps)),
  };
}
