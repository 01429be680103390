/** Bytes that are not a request message are the client's fault: INVALID_ARGUMENT, never INTERNAL. */
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { createGateway, type Gateway } from "../../src/gateway/gateway.js";
import { silentLogger } from "../../src/shared/logger.js";

const identity = (b: Buffer) => b;

describe("undecodable request bytes", () => {
  let gateway: Gateway;
  let client: Client;
  beforeAll(async () => {
    gateway = createGateway(loadGatewayConfig({ BACKBONE_LISTEN: "127.0.0.1:0", BACKBONE_METRICS_LISTEN: "off" }), { log: silentLogger });
    client = new Client(await gateway.start(), credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await gateway.stop();
  });

  // A truncated varint, a length past the end, a string field (market) that is not UTF-8.
  const garbage: [string, Buffer][] = [
    ["a truncated varint", Buffer.from([0x10, 0xff])],
    ["a length past the end", Buffer.from([0x0a, 0x7f, 0x41])],
    ["a market that is not UTF-8", Buffer.from([0x0a, 0x02, 0xc3, 0x28])],
  ];

  it.each(garbage)("GetCandles with %s is INVALID_ARGUMENT naming the request", async (_name, bytes) => {
    const error = await new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest("/backbone.marketdata.v1.MarketDataService/GetCandles", identity, identity, bytes, new Metadata(), {}, (e) => resolve(e)),
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/^request: .*GetCandlesRequest/);
  });

  it.each(garbage)("StreamTickers with %s is INVALID_ARGUMENT naming the request", async (_name, bytes) => {
    const call = client.makeServerStreamRequest("/backbone.marketdata.v1.MarketDataService/StreamTickers", identity, identity, bytes, new Metadata(), {});
    const error = await new Promise<ServiceError>((resolve) => call.on("error", resolve));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^request: .*StreamTickersRequest/);
  });
});
