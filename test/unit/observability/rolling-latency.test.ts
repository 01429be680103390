import { describe, expect, it } from "vitest";
import { RollingLatency } from "../../../src/gateway/observability/rolling-latency.js";

function clock(start = 1_773_240_000_250) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("RollingLatency", () => {
  it("reports nothing before any duration", () => {
    expect(new RollingLatency().summary("NORMAL")).toEqual({ count: 0, p50Ms: 0, p99Ms: 0 });
  });

  it("gives p50 and p99 within 5% of the exact percentiles, per key", () => {
    const c = clock();
    const window = new RollingLatency({ now: c.now });
    // 1..1000 ms, once each: p50 = 500 ms, p99 = 990 ms.
    for (let ms = 1; ms <= 1_000; ms++) window.observe("NORMAL", ms / 1_000);
    window.observe("CRITICAL", 0.002);
    const normal = window.summary("NORMAL");
    expect(normal.count).toBe(1_000);
    expect(normal.p50Ms).toBeGreaterThanOrEqual(500);
    expect(normal.p50Ms).toBeLessThanOrEqual(500 * 1.05);
    expect(normal.p99Ms).toBeGreaterThanOrEqual(990);
    expect(normal.p99Ms).toBeLessThanOrEqual(990 * 1.05);
    const critical = window.summary("CRITICAL");
    expect(critical.count).toBe(1);
    expect(critical.p50Ms).toBeGreaterThanOrEqual(2);
    expect(critical.p50Ms).toBeLessThanOrEqual(2 * 1.05);
  });

  it("forgets durations older than the window", () => {
    const c = clock();
    const window = new RollingLatency({ now: c.now, windowMs: 60_000, slotMs: 1_000 });
    window.observe("LOW", 5);
    c.t += 30_000;
    window.observe("LOW", 0.001);
    expect(window.summary("LOW").count).toBe(2);
    c.t += 31_000; // the 5-s duration is now more than 60 s old
    expect(window.summary("LOW")).toMatchObject({ count: 1 });
    expect(window.summary("LOW").p99Ms).toBeLessThan(1.1);
    c.t += 60_000;
    expect(window.summary("LOW").count).toBe(0);
  });

  it("reuses a slot's storage when the window wraps around", () => {
    const c = clock();
    const window = new RollingLatency({ now: c.now, windowMs: 3_000, slotMs: 1_000 });
    for (let i = 0; i < 10; i++) {
      window.observe("HIGH", 0.01);
      c.t += 1_000;
    }
    // Only the durations of the last three slots (the current one is empty) remain.
    expect(window.summary("HIGH").count).toBe(2);
  });

  it("clamps durations outside its range into the end bins", () => {
    const window = new RollingLatency();
    window.observe("NORMAL", 0);
    window.observe("NORMAL", 1_000);
    const s = window.summary("NORMAL");
    expect(s.count).toBe(2);
    expect(s.p50Ms).toBeLessThan(0.1);
    expect(s.p99Ms).toBeGreaterThan(90_000);
  });
});
