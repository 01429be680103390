import { status } from "@grpc/grpc-js";
import type { GetCandlesRequest, GetCandlesResponse } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import { StatusError } from "../../shared/grpc/status-mapping.js";
import type { GatewayDeps } from "../gateway-deps.js";

export function createGetCandles(_deps: GatewayDeps): (req: GetCandlesRequest, ctx: CallContext) => Promise<GetCandlesResponse> {
  return () => Promise.reject(new StatusError(status.UNIMPLEMENTED, "GetCandles is not implemented yet"));
}
