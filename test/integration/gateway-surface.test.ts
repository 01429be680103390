import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketDataService } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { createGateway, type Gateway } from "../../src/gateway/gateway.js";
import { createGrpcClient, type GrpcClient } from "../../src/shared/grpc/client.js";
import { silentLogger } from "../../src/shared/logger.js";

describe("public API surface", () => {
  let gateway: Gateway;
  let client: GrpcClient<typeof MarketDataService>;
  beforeAll(async () => {
    gateway = createGateway(loadGatewayConfig({ BACKBONE_LISTEN: "127.0.0.1:0" }), { log: silentLogger });
    client = createGrpcClient(MarketDataService, await gateway.start());
  });
  afterAll(async () => {
    client.close();
    await gateway.stop();
  });

  it("declares every RPC of the contract", () => {
    expect(MarketDataService.methods.map((m) => m.name).sort()).toEqual(
      [
        "ListMarkets", "GetCandles", "FetchCandleRange", "GetTickers", "GetOrderbooks", "GetTrades",
        "StreamTickers", "StreamOrderbooks", "StreamTrades", "StreamCandles", "GetStats",
      ].sort(),
    );
  });
});
