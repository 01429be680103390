import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../../src/gateway/observability/gateway-metrics.js";
import { RecentProblems } from "../../../src/gateway/observability/recent-problems.js";
import { buildStatusSnapshot } from "../../../src/gateway/observability/status-snapshot.js";
import { FakeView, NOW } from "./metrics-fakes.js";

function setup() {
  const metrics = new GatewayMetrics({ now: () => NOW });
  const view = new FakeView();
  metrics.watch(view);
  const problems = new RecentProblems(20);
  const snapshot = () => buildStatusSnapshot({ metrics, view, problems, startedAtMs: NOW - 90_000, now: () => NOW });
  return { metrics, view, problems, snapshot };
}

describe("buildStatusSnapshot", () => {
  it("rate budget per group, with the group's upstream counters", async () => {
    const { metrics, snapshot } = setup();
    for (const kind of ["request", "429", "retry", "request"] as const) metrics.onUpstreamEvent({ group: "candles", endpoint: "/v1/candles/days", kind });
    const s = await snapshot();
    expect(s.rateBudget.map((g) => g.group)).toEqual(["candles", "ticker"]);
    expect(s.rateBudget[0]).toEqual({
      group: "candles",
      used: 4,
      limit: 10,
      queued: { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3 },
      pausedUntilMs: NOW + 500,
      blockedUntilMs: 0,
      requests: 2,
      rateLimited: 1,
      blocked: 0,
      retries: 1,
      errors: 0,
    });
    expect(s.rateBudget[1]).toMatchObject({ group: "ticker", blockedUntilMs: NOW + 60_000, requests: 0 });
  });

  it("hit ratios: candles from the store, snapshots from the realtime cache; null before any answer", async () => {
    const { metrics, snapshot } = setup();
    let s = await snapshot();
    expect(s.hitRatios.store).toEqual({ local: 0, total: 0, ratio: null });
    const rpc = (method: string, source: "STORE" | "UPSTREAM" | "MIXED" | "REALTIME_CACHE", upstreamCalls = 0) =>
      metrics.observeRpc({ method, priority: "NORMAL", code: "OK", seconds: 0.002, upstreamCalls, source });
    rpc("GetCandles", "UPSTREAM", 2);
    rpc("GetCandles", "STORE");
    rpc("GetCandles", "STORE");
    rpc("GetCandles", "MIXED", 1);
    rpc("GetTickers", "REALTIME_CACHE");
    rpc("GetTickers", "UPSTREAM", 1);
    s = await snapshot();
    expect(s.hitRatios.store).toEqual({ local: 2, total: 4, ratio: 0.5 });
    expect(s.hitRatios.realtimeCache).toEqual({ local: 1, total: 2, ratio: 0.5 });
    expect(s.hitRatios.daemonRealtimeCache).toBeCloseTo(10 / 12);
    expect(s.upstream).toEqual({ calls: 7, saved: 3 });
    expect(s.latency.map((l) => [l.priority, l.count])).toEqual([["CRITICAL", 0], ["HIGH", 0], ["NORMAL", 6], ["LOW", 0]]);
  });

  it("streams, store figures, event loop, problems", async () => {
    const { metrics, problems, snapshot } = setup();
    metrics.streamStarted("StreamTickers");
    problems.add({ time: new Date(NOW).toISOString(), level: "warn", component: "gateway", message: "upbit rate limited (429); group paused", fields: { group: "candles" } });
    const s = await snapshot();
    expect(s.updatedAtMs).toBe(NOW);
    expect(s.startedAtMs).toBe(NOW - 90_000);
    expect(s.streams).toEqual({ active: [{ method: "StreamTickers", count: 1 }], activeTotal: 1, subscribers: 3, upstreamTopics: 3, upstreamState: "open", updates: 120 });
    expect(s.store).toEqual({
      up: true,
      checkedAtMs: NOW,
      databaseSizeBytes: 12_582_912,
      walSizeBytes: 4_096,
      totalBlocks: 48,
      freeBlocks: 8,
      candleRows: 1_000,
      series: 2,
      lastMaintenanceMs: NOW - 60_000,
      lastMaintenanceDetail: "checkpoint",
      hotCandles: 1_234,
    });
    expect(s.eventLoop).toEqual({ lagMs: 3, p99Ms: 12, maxMs: 40, busyMaxMs: 7 });
    expect(s.recentProblems.map((p) => p.message)).toEqual(["upbit rate limited (429); group paused"]);
    expect(s.problemsTotal).toBe(1);
    // What /status.json sends: plain JSON, no BigInt left.
    expect(() => JSON.stringify(s)).not.toThrow();
  });

  it("says the daemon is down and why, without stale figures", async () => {
    const { view, snapshot } = setup();
    view.reading = { ok: false, atMs: NOW, error: "storage daemon unavailable: deadline exceeded" };
    const s = await snapshot();
    expect(s.store).toEqual({ up: false, checkedAtMs: NOW, error: "storage daemon unavailable: deadline exceeded", hotCandles: 1_234 });
    expect(s.hitRatios.daemonRealtimeCache).toBeNull();
  });
});
