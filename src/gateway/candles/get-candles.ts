import type { GetCandlesRequest } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { requireListed } from "../market-catalog.js";
import { MetaRecorder } from "../response-meta.js";
import { parseCandleQuery } from "./candle-request.js";
import type { CandlesAnswer } from "./candles-response-encoding.js";

export function createGetCandles(deps: GatewayDeps): (req: GetCandlesRequest, ctx: CallContext) => Promise<CandlesAnswer> {
  return async (req, ctx) => {
    const query = parseCandleQuery(req, deps.now(), deps.config.maxUnaryCandles);
    const meta = new MetaRecorder(query.priority);
    const { list, upstreamCalls } = await deps.markets.list(query.priority, ctx.signal);
    if (upstreamCalls > 0) meta.servedFromUpstream(upstreamCalls);
    requireListed(list, query.market, "market");
    const { candles, complete } = await deps.candles.serve(query, meta, ctx.signal);
    // Encoded by `encodeCandlesAnswer` (see gateway.ts), not by reflection.
    return { candles, meta: meta.build(complete) };
  };
}
