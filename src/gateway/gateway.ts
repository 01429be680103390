import { Server, ServerCredentials } from "@grpc/grpc-js";
import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { grpcServiceDefinition } from "../shared/grpc/service-definition.js";
import type { Logger } from "../shared/logger.js";
import type { GatewayConfig } from "./config.js";
import { unimplementedMarketDataService } from "./unimplemented-market-data-service.js";

export interface Gateway {
  /** Listens; resolves with the bound address (the real port when 0 was asked). */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createGateway(config: GatewayConfig, deps: { log: Logger }): Gateway {
  const server = new Server();
  server.addService(grpcServiceDefinition(MarketDataService), unimplementedMarketDataService());
  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.bindAsync(config.listen, ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          const address = config.listen.replace(/:\d+$/, `:${port}`);
          deps.log.info("gateway listening", { address });
          resolve(address);
        });
      }),
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
