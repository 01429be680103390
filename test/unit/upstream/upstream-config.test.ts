import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/shared/errors.js";
import { loadUpstreamConfig } from "../../../src/gateway/upstream/upstream-config.js";

describe("loadUpstreamConfig", () => {
  it("defaults to the real Upbit", () => {
    expect(loadUpstreamConfig({})).toEqual({ restUrl: "https://api.upbit.com", wsUrl: "wss://api.upbit.com/websocket/v1" });
  });

  it("takes a simulator's URLs, dropping a trailing slash of the REST base and keeping a path prefix", () => {
    expect(loadUpstreamConfig({ UPBIT_REST_URL: "http://127.0.0.1:8080/", UPBIT_WS_URL: "ws://127.0.0.1:8080/websocket/v1" })).toEqual({
      restUrl: "http://127.0.0.1:8080",
      wsUrl: "ws://127.0.0.1:8080/websocket/v1",
    });
    expect(loadUpstreamConfig({ UPBIT_REST_URL: "http://sim.local/upbit/" }).restUrl).toBe("http://sim.local/upbit");
  });

  it.each([
    ["UPBIT_REST_URL", "api.upbit.com", /is not a URL/],
    ["UPBIT_REST_URL", "", /is not a URL/],
    ["UPBIT_REST_URL", "ftp://api.upbit.com", /must use https or http/],
    ["UPBIT_REST_URL", "wss://api.upbit.com", /must use https or http/],
    ["UPBIT_REST_URL", "https://api.upbit.com/v1", /must not include \/v1/],
    ["UPBIT_REST_URL", "https://api.upbit.com/?x=1", /query or fragment/],
    ["UPBIT_REST_URL", "https://user:pw@api.upbit.com", /credentials/],
    ["UPBIT_WS_URL", "https://api.upbit.com/websocket/v1", /must use wss or ws/],
    ["UPBIT_WS_URL", "not a url", /is not a URL/],
  ])("refuses %s=%j with a ConfigError naming it", (variable, value, problem) => {
    let caught: unknown;
    try {
      loadUpstreamConfig({ [variable]: value });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(problem);
  });
});
