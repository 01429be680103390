import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";

describe("gateway config", () => {
  it("defaults to 127.0.0.1:50051 and info logs", () => {
    expect(loadGatewayConfig({})).toEqual({ listen: "127.0.0.1:50051", logLevel: "info" });
  });

  it.each([
    [{ BACKBONE_LISTEN: "50051" }, /BACKBONE_LISTEN="50051": must be host:port/],
    [{ BACKBONE_LISTEN: "127.0.0.1:99999" }, /BACKBONE_LISTEN="127.0.0.1:99999": must be host:port/],
    [{ BACKBONE_LOG_LEVEL: "loud" }, /BACKBONE_LOG_LEVEL="loud": must be info, warn, error or silent/],
  ])("refuses %o, naming the variable", (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });
});
