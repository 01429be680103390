import { describe, expect, it } from "vitest";
import { FaultInjector, FaultRequestError, parseFaultPatch } from "../../../src/upbit-sim/fault-injection.js";

describe("parseFaultPatch", () => {
  it("accepts every documented field", () => {
    expect(parseFaultPatch({ latencyMs: 50, errorRate: 0.25, burst429: { count: 3 }, wsDisconnectEveryMs: 1000, wsStall: true })).toEqual({
      latencyMs: 50,
      errorRate: 0.25,
      burst429: { count: 3 },
      wsDisconnectEveryMs: 1000,
      wsStall: true,
    });
  });

  it.each([
    [null],
    [[]],
    ["x"],
    [{ errorRate: 1.5 }],
    [{ errorRate: "0.5" }],
    [{ latencyMs: -1 }],
    [{ latencyMs: 1e9 }],
    [{ burst429: 3 }],
    [{ burst429: { count: 1.5 } }],
    [{ burst429: { count: 1, extra: 1 } }],
    [{ wsStall: "yes" }],
    [{ surprise: 1 }],
  ])("refuses %j", (body) => {
    expect(() => parseFaultPatch(body)).toThrow(FaultRequestError);
  });
});

describe("FaultInjector", () => {
  it("answers the given share of requests with 500s, the same ones for the same seed", () => {
    const draw = (seed: number) => {
      const f = new FaultInjector(seed);
      f.apply({ errorRate: 0.3 });
      return Array.from({ length: 2000 }, () => f.drawServerError() ?? "ok");
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    const failures = a.filter((x) => x !== "ok").length;
    expect(failures).toBeGreaterThan(500);
    expect(failures).toBeLessThan(700);
    expect(a).toContain("json");
    expect(a).toContain("html");
  });

  it("uses up a 429 burst, merges patches and resets to no faults with the same sequence", () => {
    const f = new FaultInjector(1);
    f.apply({ burst429: { count: 2 } });
    f.apply({ latencyMs: 5 });
    expect([f.takeBurst429(), f.takeBurst429(), f.takeBurst429()]).toEqual([true, true, false]);
    expect(f.settings.latencyMs).toBe(5);
    f.apply({ errorRate: 0.5, wsDisconnectEveryMs: 100 });
    const first = Array.from({ length: 50 }, () => f.drawServerError());
    expect(f.apply({ wsDisconnectEveryMs: 0 }).wsDisconnectEveryMs).toBeUndefined();
    f.reset();
    expect(f.settings).toEqual({ latencyMs: 0, errorRate: 0, burst429Remaining: 0, wsDisconnectEveryMs: undefined, wsStall: false });
    expect(f.drawServerError()).toBeUndefined();
    f.apply({ errorRate: 0.5 });
    expect(Array.from({ length: 50 }, () => f.drawServerError())).toEqual(first);
  });
});
