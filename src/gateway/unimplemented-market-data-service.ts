import { type handleServerStreamingCall, type handleUnaryCall, status, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";

/**
 * Every RPC of the public API answers UNIMPLEMENTED until the issue that builds it lands: a
 * client must never mistake a placeholder for data.
 */
export function unimplementedMarketDataService(): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const m of MarketDataService.methods) {
    const answer = { code: status.UNIMPLEMENTED, details: `${MarketDataService.typeName}/${m.name} is not implemented yet` };
    if (m.methodKind === "unary") {
      const handler: handleUnaryCall<unknown, unknown> = (_call, callback) => callback(answer);
      impl[m.localName] = handler;
    } else {
      const handler: handleServerStreamingCall<unknown, unknown> = (call) => call.emit("error", answer);
      impl[m.localName] = handler;
    }
  }
  return impl;
}
