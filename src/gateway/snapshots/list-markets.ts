import { create } from "@bufbuild/protobuf";
import { type ListMarketsRequest, type ListMarketsResponse, ListMarketsResponseSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { MetaRecorder } from "../response-meta.js";
import { marketToProto } from "./proto-conversions.js";
import { uniqueQuoteCurrencies } from "./requested-markets.js";

/** ListMarkets: the catalog's list (refreshed from Upbit when old), in Upbit's order. */
export function createListMarkets(deps: GatewayDeps): (req: ListMarketsRequest, ctx: CallContext) => Promise<ListMarketsResponse> {
  return async (req, ctx) => {
    const priority = priorityFromProto(req.priority);
    const quotes = new Set(uniqueQuoteCurrencies(req.quoteCurrencies).map((q) => q.code));
    const meta = new MetaRecorder(priority);
    const { list, upstreamCalls } = await deps.markets.list(priority, ctx.signal);
    if (upstreamCalls > 0) {
      meta.splits += 1;
      meta.servedFromUpstream(upstreamCalls);
    } else {
      // The gateway's own copy of the list; of the Source values, the realtime cache says that best.
      meta.servedFromCache();
    }
    const markets = list.markets.filter((m) => quotes.size === 0 || quotes.has(m.market.slice(0, m.market.indexOf("-"))));
    return create(ListMarketsResponseSchema, { markets: markets.map(marketToProto), meta: meta.init(true) });
  };
}
