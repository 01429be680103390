import { type StreamTickersRequest, type StreamTickersResponse, StreamTickersResponseSchema, type Ticker } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { runConflatedStream } from "./conflated-stream.js";
import { sharedMessages } from "./shared-messages.js";
import { resolveStreamMarkets } from "./stream-request.js";

const tickerMessage = sharedMessages(StreamTickersResponseSchema, (ticker: Ticker, snapshot) => ({ ticker, snapshot }));

/** StreamTickers: the latest ticker per market, then live tickers, conflated per market. */
export function createStreamTickers(deps: GatewayDeps): (req: StreamTickersRequest, send: Send<StreamTickersResponse>, ctx: CallContext) => Promise<void> {
  return async (req, send, ctx) => {
    const priority = priorityFromProto(req.priority);
    const markets = await resolveStreamMarkets(deps, req.markets, priority, ctx.signal);
    await runConflatedStream({
      hub: deps.hub,
      type: "ticker",
      markets,
      priority,
      minIntervalMs: req.minIntervalMs,
      signal: ctx.signal,
      send,
      toMessage: tickerMessage,
    });
  };
}
