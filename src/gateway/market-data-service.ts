import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CallContext, type Send, serverStream, unary } from "../shared/grpc/handlers.js";
import { createFetchCandleRange } from "./candles/fetch-candle-range.js";
import { createGetCandles } from "./candles/get-candles.js";
import type { GatewayDeps } from "./gateway-deps.js";
import { createGetStats, type GatewayActivity } from "./get-stats.js";
import { createStreamCandles } from "./realtime/stream-candles.js";
import { createStreamOrderbooks } from "./realtime/stream-orderbooks.js";
import { createStreamTickers } from "./realtime/stream-tickers.js";
import { createStreamTrades } from "./realtime/stream-trades.js";
import { createSnapshotHandlers } from "./snapshots/snapshot-handlers.js";
import { unimplementedMarketDataService } from "./unimplemented-market-data-service.js";
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
  const snapshots = createSnapshotHandlers(deps);
  return {
    ...unimplementedMarketDataService(),
    listMarkets: unary(deps.log, name("ListMarkets"), shutdown, handle(snapshots.listMarkets)),
    getTickers: unary(deps.log, name("GetTickers"), shutdown, handle(snapshots.getTickers)),
    getOrderbooks: unary(deps.log, name("GetOrderbooks"), shutdown, handle(snapshots.getOrderbooks)),
    getTrades: unary(deps.log, name("GetTrades"), shutdown, handle(snapshots.getTrades)),
    getCandles: unary(deps.log, name("GetCandles"), shutdown, handle(createGetCandles(deps))),
    getStats: unary(deps.log, name("GetStats"), shutdown, handle(createGetStats(deps, { startedAtMs, activeStreams: () => activeStreams, eventLoop }))),
    fetchCandleRange: serverStream(deps.log, name("FetchCandleRange"), shutdown, handleStream(createFetchCandleRange(deps))),
    streamTickers: serverStream(deps.log, name("StreamTickers"), shutdown, handleStream(createStreamTickers(deps))),
    streamOrderbooks: serverStream(deps.log, name("StreamOrderbooks"), shutdown, handleStream(createStreamOrderbooks(deps))),
    streamCandles: serverStream(deps.log, name("StreamCandles"), shutdown, handleStream(createStreamCandles(deps))),
    streamTrades: serverStream(deps.log, name("StreamTrades"), shutdown, handleStream(createStreamTrades(deps))),
  };
}
