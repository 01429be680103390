import { describe, expect, it } from "vitest";
import { metricsListenFrom } from "../../../src/gateway/observability/metrics-listen.js";
import { ConfigError } from "../../../src/shared/errors.js";

describe("metricsListenFrom (BACKBONE_METRICS_LISTEN)", () => {
  it("defaults to 127.0.0.1:9464, best effort", () => {
    expect(metricsListenFrom({})).toEqual({ host: "127.0.0.1", port: 9464, explicit: false });
  });

  it("takes a loopback host:port, IPv6 in brackets, port 0", () => {
    expect(metricsListenFrom({ BACKBONE_METRICS_LISTEN: "localhost:9100" })).toEqual({ host: "localhost", port: 9100, explicit: true });
    expect(metricsListenFrom({ BACKBONE_METRICS_LISTEN: "[::1]:9464" })).toEqual({ host: "::1", port: 9464, explicit: true });
    expect(metricsListenFrom({ BACKBONE_METRICS_LISTEN: "127.0.0.1:0" })).toMatchObject({ port: 0 });
  });

  it("is off with `off`", () => {
    expect(metricsListenFrom({ BACKBONE_METRICS_LISTEN: "off" })).toBeUndefined();
  });

  it("refuses a non-loopback host unless BACKBONE_ALLOW_REMOTE=1", () => {
    expect(() => metricsListenFrom({ BACKBONE_METRICS_LISTEN: "0.0.0.0:9464" })).toThrow(ConfigError);
    expect(() => metricsListenFrom({ BACKBONE_METRICS_LISTEN: "0.0.0.0:9464" })).toThrow(/BACKBONE_METRICS_LISTEN.*not a loopback address.*BACKBONE_ALLOW_REMOTE=1/);
    expect(metricsListenFrom({ BACKBONE_METRICS_LISTEN: "0.0.0.0:9464", BACKBONE_ALLOW_REMOTE: "1" })).toEqual({ host: "0.0.0.0", port: 9464, explicit: true });
  });

  it("refuses what is not host:port, naming the variable", () => {
    for (const bad of ["9464", "127.0.0.1", "127.0.0.1:99999", "http://127.0.0.1:9464", "::1:9464"]) {
      expect(() => metricsListenFrom({ BACKBONE_METRICS_LISTEN: bad })).toThrow(/BACKBONE_METRICS_LISTEN.*host:port/);
    }
  });
});
