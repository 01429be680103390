import { status } from "@grpc/grpc-js";
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
import { StatusError } from "../../shared/grpc/status-mapping.js";
import type { GatewayDeps } from "../gateway-deps.js";

export interface SnapshotHandlers {
  listMarkets(req: ListMarketsRequest, ctx: CallContext): Promise<ListMarketsResponse>;
  getTickers(req: GetTickersRequest, ctx: CallContext): Promise<GetTickersResponse>;
  getOrderbooks(req: GetOrderbooksRequest, ctx: CallContext): Promise<GetOrderbooksResponse>;
  getTrades(req: GetTradesRequest, ctx: CallContext): Promise<GetTradesResponse>;
}

const notYet = (name: string) => () => Promise.reject(new StatusError(status.UNIMPLEMENTED, `${name} is not implemented yet`));

export function createSnapshotHandlers(_deps: GatewayDeps): SnapshotHandlers {
  return {
    listMarkets: notYet("ListMarkets"),
    getTickers: notYet("GetTickers"),
    getOrderbooks: notYet("GetOrderbooks"),
    getTrades: notYet("GetTrades"),
  };
}
