import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../../src/gateway/observability/gateway-metrics.js";
import { RateLimiter } from "../../../src/gateway/upstream/rate-limiter.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeView, NOW, sampleValue, samples } from "./metrics-fakes.js";

function setup() {
  const metrics = new GatewayMetrics({ now: () => NOW });
  const view = new FakeView();
  metrics.watch(view);
  return { metrics, view };
}

describe("GatewayMetrics: event-fed families", () => {
  it("RPC latency histogram by method, priority and code, with buckets from 0.5 ms to 10 s", async () => {
    const { metrics } = setup();
    metrics.observeRpc({ method: "GetCandles", priority: "NORMAL", code: "OK", seconds: 0.0004, upstreamCalls: 0, source: "STORE" });
    metrics.observeRpc({ method: "GetCandles", priority: "NORMAL", code: "OK", seconds: 0.3, upstreamCalls: 2, source: "UPSTREAM" });
    metrics.observeRpc({ method: "GetTickers", priority: "CRITICAL", code: "INVALID_ARGUMENT", seconds: 0.001, upstreamCalls: 0 });
    const text = await metrics.text();
    const candles = { method: "GetCandles", priority: "NORMAL", code: "OK" };
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", candles)).toBe(2);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_bucket", { ...candles, le: "0.0005" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_bucket", { ...candles, le: "10" })).toBe(2);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", { method: "GetTickers", priority: "CRITICAL", code: "INVALID_ARGUMENT" })).toBe(1);
  });

  it("answers by source, upstream calls they made, and the calls saved by local answers", async () => {
    const { metrics } = setup();
    metrics.observeRpc({ method: "GetCandles", priority: "NORMAL", code: "OK", seconds: 0.01, upstreamCalls: 3, source: "UPSTREAM" });
    metrics.observeRpc({ method: "GetCandles", priority: "NORMAL", code: "OK", seconds: 0.001, upstreamCalls: 0, source: "STORE" });
    metrics.observeRpc({ method: "GetCandles", priority: "LOW", code: "OK", seconds: 0.001, upstreamCalls: 1, source: "MIXED" });
    metrics.observeRpc({ method: "GetTickers", priority: "CRITICAL", code: "OK", seconds: 0.001, upstreamCalls: 0, source: "REALTIME_CACHE" });
    const text = await metrics.text();
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetCandles", source: "STORE" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetCandles", source: "UPSTREAM" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetCandles", source: "MIXED" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetTickers", source: "REALTIME_CACHE" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_upstream_calls_total", { method: "GetCandles" })).toBe(4);
    expect(sampleValue(text, "backbone_upstream_calls_saved_total", { method: "GetCandles" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_calls_saved_total", { method: "GetTickers" })).toBe(1);
  });

  it("active streams per method, and ended streams by priority and code", async () => {
    const { metrics } = setup();
    const endA = metrics.streamStarted("StreamTickers");
    const endB = metrics.streamStarted("StreamTickers");
    metrics.streamStarted("StreamTrades");
    let text = await metrics.text();
    expect(sampleValue(text, "backbone_streams_active", { method: "StreamTickers" })).toBe(2);
    expect(sampleValue(text, "backbone_streams_active", { method: "StreamTrades" })).toBe(1);
    endA({ priority: "CRITICAL", code: "CANCELLED", seconds: 3 });
    endA({ priority: "CRITICAL", code: "CANCELLED", seconds: 3 }); // a second report is ignored
    endB({ priority: "NORMAL", code: "OK", seconds: 1 });
    text = await metrics.text();
    expect(sampleValue(text, "backbone_streams_active", { method: "StreamTickers" })).toBe(0);
    expect(sampleValue(text, "backbone_streams_total", { method: "StreamTickers", priority: "CRITICAL", code: "CANCELLED" })).toBe(1);
    expect(sampleValue(text, "backbone_streams_total", { method: "StreamTickers", priority: "NORMAL", code: "OK" })).toBe(1);
  });

  it("upstream requests, 429s, 418s, retries and errors per Upbit group", async () => {
    const { metrics } = setup();
    const endpoint = "/v1/candles/minutes/1";
    for (const kind of ["request", "429", "retry", "request", "request", "error", "retry", "request", "418"] as const) metrics.onUpstreamEvent({ group: "candles", endpoint, kind });
    metrics.onUpstreamEvent({ group: "ticker", endpoint: "/v1/ticker", kind: "request" });
    const text = await metrics.text();
    expect(sampleValue(text, "backbone_upstream_requests_total", { group: "candles" })).toBe(4);
    expect(sampleValue(text, "backbone_upstream_requests_total", { group: "ticker" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_rate_limited_total", { group: "candles" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_blocked_total", { group: "candles" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_retries_total", { group: "candles" })).toBe(2);
    expect(sampleValue(text, "backbone_upstream_errors_total", { group: "candles" })).toBe(1);
  });

  it("queue wait per group and priority, from a real limiter's grants", async () => {
    const { metrics } = setup();
    const clock = new FakeClock();
    const limiter = new RateLimiter({ now: clock.now, schedule: clock.schedule, limitPerSecond: 3, criticalReserve: 0, windowSlackMs: 0 });
    const stop = limiter.onGranted(metrics.onGranted);
    const permits = await Promise.all([0, 1, 2].map(() => limiter.acquire("candles", "NORMAL")));
    for (const p of permits) limiter.release(p);
    const waiting = limiter.acquire("candles", "LOW");
    await clock.advance(1_000);
    limiter.release(await waiting);
    stop();
    await limiter.acquire("candles", "HIGH"); // not counted: the listener is gone
    const text = await metrics.text();
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_count", { group: "candles", priority: "NORMAL" })).toBe(3);
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_bucket", { group: "candles", priority: "NORMAL", le: "0.0005" })).toBe(3);
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_count", { group: "candles", priority: "LOW" })).toBe(1);
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_sum", { group: "candles", priority: "LOW" })).toBe(1);
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_count", { group: "candles", priority: "HIGH" })).toBeUndefined();
    limiter.close();
  });
});

describe("GatewayMetrics: families read at scrape time", () => {
  it("rate budget, queue depth, paused and blocked per group", async () => {
    const { metrics } = setup();
    const text = await metrics.text();
    expect(sampleValue(text, "backbone_rate_budget_used", { group: "candles" })).toBe(4);
    expect(sampleValue(text, "backbone_rate_budget_limit", { group: "candles" })).toBe(10);
    expect(sampleValue(text, "backbone_rate_queue_depth", { group: "candles", priority: "LOW" })).toBe(3);
    expect(sampleValue(text, "backbone_rate_queue_depth", { group: "ticker", priority: "CRITICAL" })).toBe(0);
    expect(sampleValue(text, "backbone_rate_group_paused", { group: "candles" })).toBe(1);
    expect(sampleValue(text, "backbone_rate_group_paused", { group: "ticker" })).toBe(0);
    expect(sampleValue(text, "backbone_rate_group_blocked", { group: "ticker" })).toBe(1);
  });

  it("realtime hub: subscribers by type and priority, topics, connection, update totals", async () => {
    const { metrics, view } = setup();
    let text = await metrics.text();
    expect(sampleValue(text, "backbone_realtime_subscribers", { type: "ticker", priority: "CRITICAL" })).toBe(2);
    expect(sampleValue(text, "backbone_realtime_subscribers", { type: "orderbook", priority: "NORMAL" })).toBe(1);
    expect(sampleValue(text, "backbone_realtime_upstream_topics")).toBe(3);
    expect(sampleValue(text, "backbone_realtime_upstream_connected")).toBe(1);
    expect(sampleValue(text, "backbone_realtime_updates_total")).toBe(120);
    expect(sampleValue(text, "backbone_realtime_pending_max")).toBe(2);
    view.hubStats = { ...view.hubStats, updates: 150, subscribers: view.hubStats.subscribers.slice(2), upstream: { ...view.hubStats.upstream, state: "waiting" } };
    text = await metrics.text();
    expect(sampleValue(text, "backbone_realtime_updates_total")).toBe(150);
    // Subscribers that left leave no stale series behind.
    expect(sampleValue(text, "backbone_realtime_subscribers", { type: "ticker", priority: "CRITICAL" })).toBeUndefined();
    expect(sampleValue(text, "backbone_realtime_upstream_connected")).toBe(0);
  });

  it("store: health, size, blocks, rows, maintenance and the daemon's cache hit ratios; down makes backbone_store_up 0", async () => {
    const { metrics, view } = setup();
    let text = await metrics.text();
    expect(view.storeReads).toBeGreaterThan(0);
    expect(sampleValue(text, "backbone_store_up")).toBe(1);
    expect(sampleValue(text, "backbone_store_database_bytes")).toBe(12_582_912);
    expect(sampleValue(text, "backbone_store_free_blocks")).toBe(8);
    expect(sampleValue(text, "backbone_store_total_blocks")).toBe(48);
    expect(sampleValue(text, "backbone_store_candle_rows")).toBe(1_000);
    expect(sampleValue(text, "backbone_store_series")).toBe(2);
    expect(sampleValue(text, "backbone_store_last_maintenance_timestamp_seconds")).toBe((NOW - 60_000) / 1_000);
    expect(sampleValue(text, "backbone_store_realtime_cache_hit_ratio", { kind: "ticker" })).toBe(0.9);
    expect(sampleValue(text, "backbone_store_realtime_cache_hit_ratio", { kind: "all" })).toBeCloseTo(10 / 12);
    expect(sampleValue(text, "backbone_store_realtime_cache_entries", { kind: "orderbook" })).toBe(1);
    expect(sampleValue(text, "backbone_hot_candles")).toBe(1_234);

    view.reading = { ok: false, atMs: NOW, error: "storage daemon unavailable" };
    text = await metrics.text();
    expect(sampleValue(text, "backbone_store_up")).toBe(0);
    expect(sampleValue(text, "backbone_store_realtime_cache_hit_ratio", { kind: "ticker" })).toBeUndefined();
  });

  it("event-loop lag in seconds", async () => {
    const { metrics } = setup();
    const text = await metrics.text();
    expect(sampleValue(text, "backbone_event_loop_lag_seconds")).toBe(0.003);
    expect(sampleValue(text, "backbone_event_loop_delay_p99_seconds")).toBe(0.012);
    expect(sampleValue(text, "backbone_event_loop_delay_max_seconds")).toBe(0.04);
    expect(sampleValue(text, "backbone_event_loop_busy_max_seconds")).toBe(0.007);
  });

  it("own-work blocks as counters by length, counting on from each scrape", async () => {
    const { metrics, view } = setup();
    let text = await metrics.text();
    expect(sampleValue(text, "backbone_event_loop_busy_blocks_total", { at_least_seconds: "0.005" })).toBe(2);
    expect(sampleValue(text, "backbone_event_loop_busy_blocks_total", { at_least_seconds: "0.01" })).toBe(1);
    view.busyBlocksOver5 = 5;
    text = await metrics.text();
    expect(sampleValue(text, "backbone_event_loop_busy_blocks_total", { at_least_seconds: "0.005" })).toBe(5);
    expect(sampleValue(text, "backbone_event_loop_busy_blocks_total", { at_least_seconds: "0.01" })).toBe(1);
  });

  it("reads nothing once unwatched, and every line is valid exposition", async () => {
    const metrics = new GatewayMetrics();
    const view = new FakeView();
    const unwatch = metrics.watch(view);
    unwatch();
    const text = await metrics.text();
    expect(view.storeReads).toBe(0);
    expect(sampleValue(text, "backbone_rate_budget_used", { group: "candles" })).toBeUndefined();
    expect(samples(text).length).toBeGreaterThan(0); // throws on a malformed line
  });

  it("two gateways in one process keep separate registries", async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics();
    a.onUpstreamEvent({ group: "market", endpoint: "/v1/market/all", kind: "request" });
    expect(sampleValue(await a.text(), "backbone_upstream_requests_total", { group: "market" })).toBe(1);
    expect(sampleValue(await b.text(), "backbone_upstream_requests_total", { group: "market" })).toBeUndefined();
  });
});
