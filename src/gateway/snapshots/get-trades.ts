import { create } from "@bufbuild/protobuf";
import { type GetTradesRequest, type GetTradesResponse, GetTradesResponseSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { MetaRecorder } from "../response-meta.js";
import { TRADES_PATH } from "../upstream/upbit-rest-parsers.js";
import { UpstreamProtocolError } from "../upstream/upstream-errors.js";
import { allOrAbort } from "./all-or-abort.js";
import { tradeToProto } from "./proto-conversions.js";
import { resolveMarkets, uniqueMarketCodes } from "./requested-markets.js";
import { collectTrades } from "./trade-paging.js";
import { tradeBounds, tradeCount, type TradeWindow } from "./trade-window.js";

/**
 * GetTrades: recent trades straight from Upbit, markets in parallel, each paged by cursor.
 * The realtime cache is not read: it holds whatever trades the live feed happened to store,
 * and nothing says whether they are the complete latest N a request asks for.
 */
export function createGetTrades(deps: GatewayDeps): (req: GetTradesRequest, ctx: CallContext) => Promise<GetTradesResponse> {
  return async (req, ctx) => {
    const priority = priorityFromProto(req.priority);
    const nowMs = deps.now();
    // Everything the request says is checked before any upstream call.
    const distinct = uniqueMarketCodes(req.markets).length;
    const window: TradeWindow = { count: tradeCount(req.count, distinct), ...tradeBounds(req.startMs, req.endMs, nowMs) };
    const meta = new MetaRecorder(priority);
    const codes = await resolveMarkets(deps, { markets: req.markets }, priority, ctx.signal, meta);
    const perMarket = await allOrAbort(
      codes,
      (market, signal) =>
        collectTrades(
          async (query) => {
            const page = await deps.upbit.trades(market, query, { priority, signal });
            const stray = page.find((t) => t.market !== market);
            if (stray) throw new UpstreamProtocolError(TRADES_PATH, "market", `${stray.market} answered a request for ${market}`);
            return page;
          },
          window,
          nowMs,
        ),
      ctx.signal,
    );
    const pages = perMarket.reduce((n, m) => n + m.pages, 0);
    meta.splits += pages;
    meta.servedFromUpstream(pages);
    return create(GetTradesResponseSchema, { trades: perMarket.flatMap((m) => m.trades.map(tradeToProto)), meta: meta.init(true) });
  };
}
