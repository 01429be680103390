import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";

describe("gateway config", () => {
  it("defaults to 127.0.0.1:50051 and info logs", () => {
    expect(loadGatewayConfig({})).toMatchObject({
      listen: "127.0.0.1:50051",
      storageAddress: "127.0.0.1:50052",
      upstream: { restUrl: "https://api.upbit.com", wsUrl: "wss://api.upbit.com/websocket/v1" },
      maxUnaryCandles: 20_000,
      realtime: { graceMs: 10_000, autoSubscribe: { reads: 5, windowMs: 10_000 } },
      logLevel: "info",
    });
  });

  it.each([
    [{ BACKBONE_LISTEN: "50051" }, /BACKBONE_LISTEN="50051": must be host:port/],
    [{ BACKBONE_LISTEN: "127.0.0.1:99999" }, /BACKBONE_LISTEN="127.0.0.1:99999": must be host:port/],
    [{ BACKBONE_STORAGE_LISTEN: "0.0.0.0:50052" }, /BACKBONE_STORAGE_LISTEN="0.0.0.0:50052": must be unix/],
    [{ BACKBONE_MAX_CANDLES: "-5" }, /BACKBONE_MAX_CANDLES="-5": must be a positive integer/],
    [{ BACKBONE_STREAM_GRACE_MS: "soon" }, /BACKBONE_STREAM_GRACE_MS="soon": must be a positive integer/],
    [{ BACKBONE_LOG_LEVEL: "loud" }, /BACKBONE_LOG_LEVEL="loud": must be info, warn, error or silent/],
  ])("refuses %o, naming the variable", (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });
});
