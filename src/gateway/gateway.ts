import { Server, ServerCredentials } from "@grpc/grpc-js";
import { MarketDataService } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { grpcServiceDefinition } from "../shared/grpc/service-definition.js";
import type { Logger } from "../shared/logger.js";
import type { GatewayConfig } from "./config.js";
import type { GatewayDeps } from "./gateway-deps.js";
import { MarketCatalog } from "./market-catalog.js";
import { marketDataService } from "./market-data-service.js";
import { StoreClient } from "./store-client.js";
import { UpbitRestClient } from "./upstream/upbit-rest-client.js";

export interface Gateway {
  /** Listens; resolves with the bound address (the real port when 0 was asked). */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** What the handlers use; exposed for tests and benchmarks. */
  readonly deps: GatewayDeps;
}

export interface GatewayOptions {
  log: Logger;
  now?: () => number;
  /** Replaces the Upbit client built from `config.upstream` (tests pass tuned limiters). */
  upbit?: UpbitRestClient;
}

export function createGateway(config: GatewayConfig, options: GatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const upbit = options.upbit ?? new UpbitRestClient({ baseUrl: config.upstream.restUrl, logger: options.log });
  const store = new StoreClient(config.storageAddress);
  const deps: GatewayDeps = { config, upbit, store, markets: new MarketCatalog(upbit, now), now, log: options.log };
  const shutdown = new AbortController();
  const server = new Server({ "grpc.max_receive_message_length": config.maxRequestBytes });
  server.addService(grpcServiceDefinition(MarketDataService), marketDataService(deps, shutdown.signal));
  return {
    deps,
    start: () =>
      new Promise((resolve, reject) => {
        server.bindAsync(config.listen, ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          const address = config.listen.replace(/:\d+$/, `:${port}`);
          options.log.info("gateway listening", { address });
          resolve(address);
        });
      }),
    stop: async () => {
      shutdown.abort();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      store.close();
      await upbit.close();
    },
  };
}
