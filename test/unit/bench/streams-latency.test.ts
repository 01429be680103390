import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../../bench/streams-latency.js";

describe("LatencyHistogram", () => {
  it("reports quantiles at most a bin high, and counts samples below zero apart", () => {
    const h = new LatencyHistogram();
    for (const ms of [-7.5, 1, 2, 3]) h.record(ms);
    const p = h.percentiles();
    expect(p).toMatchObject({ count: 4, belowZero: 1, minMs: -7.5, maxMs: 3, meanMs: -1.5 / 4 });
    expect(p.p50Ms).toBeGreaterThanOrEqual(1);
    expect(p.p50Ms).toBeLessThanOrEqual(1.01);
    expect(p.p99Ms).toBe(3);
  });

  it("merges what subscriber processes send back", () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(-1);
    b.record(250);
    const p = LatencyHistogram.of(a.data(), b.data()).percentiles();
    expect(p).toMatchObject({ count: 2, belowZero: 1, minMs: -1, maxMs: 250 });
    // Above 100 ms the bins are 1 ms wide.
    expect(p.p99Ms).toBe(250);
  });
});
