import type {
  GetOrderbooksRequest,
  GetOrderbooksResponse,
  GetTickersRequest,
  GetTickersResponse,
  GetTradesRequest,
  GetTradesResponse,
  ListMarketsRequest,
  ListMarketsResponse,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { createGetOrderbooks } from "./get-orderbooks.js";
import { createGetTickers } from "./get-tickers.js";
import { createGetTrades } from "./get-trades.js";
import { createListMarkets } from "./list-markets.js";

export interface SnapshotHandlers {
  listMarkets(req: ListMarketsRequest, ctx: CallContext): Promise<ListMarketsResponse>;
  getTickers(req: GetTickersRequest, ctx: CallContext): Promise<GetTickersResponse>;
  getOrderbooks(req: GetOrderbooksRequest, ctx: CallContext): Promise<GetOrderbooksResponse>;
  getTrades(req: GetTradesRequest, ctx: CallContext): Promise<GetTradesResponse>;
}

/** The snapshot RPCs; upstream failures are mapped to statuses by the caller (market-data-service.ts). */
export function createSnapshotHandlers(deps: GatewayDeps): SnapshotHandlers {
  return {
    listMarkets: createListMarkets(deps),
    getTickers: createGetTickers(deps),
    getOrderbooks: createGetOrderbooks(deps),
    getTrades: createGetTrades(deps),
  };
}
