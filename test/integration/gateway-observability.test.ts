/**
 * Metrics, /status.json and the status page of a gateway front over the real stack (simulator,
 * daemon process, gRPC): the numbers move with real calls and agree with what the simulator saw.
 * The front is the stack's deps behind an instrumented service, as gateway.ts wires it.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Priority, Source, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { marketDataService } from "../../src/gateway/market-data-service.js";
import { GatewayMetrics } from "../../src/gateway/observability/gateway-metrics.js";
import { instrumentService } from "../../src/gateway/observability/instrument-service.js";
import { type Observability, startObservability } from "../../src/gateway/observability/observability.js";
import type { StatusSnapshot } from "../../src/gateway/observability/status-snapshot.js";
import { EventLoopLag } from "../../src/gateway/scheduler/event-loop-lag.js";
import { UPBIT_RATE_GROUPS } from "../../src/gateway/upstream/upbit-rest-client.js";
import { createLogger, silentLogger } from "../../src/shared/logger.js";
import { MINUTE_MS } from "../../src/shared/time.js";
import { removeDir, tempDir } from "../support/daemon-process.js";
import { type Front, startFront } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";
import { sampleValue } from "../unit/observability/metrics-fakes.js";

const CELL_MS = 200 * MINUTE_MS;

describe("gateway observability", () => {
  let stack: Stack;
  let front: Front;
  let lag: EventLoopLag;
  let observability: Observability;
  let base: string;
  let sentAtStart: number;
  let socketDir: string;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    socketDir = tempDir("mdb-sock-");
    // A unix socket lets the restarted daemon come back at the same address.
    stack = await startStack({ daemonListen: `unix:${socketDir}/storage.sock` });
    await stack.resetSim();
    // A latency window longer than the test, so the counts below do not depend on its pace.
    const metrics = new GatewayMetrics({ latencyWindowMs: 3_600_000 });
    lag = new EventLoopLag();
    lag.start();
    // The instrumented service logs one debug line per call; the test reads them back.
    const log = createLogger("gateway", "debug", { destination: { write: (line) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } });
    front = await startFront(stack, { handlers: (deps, shutdown) => instrumentService(marketDataService(deps, shutdown, lag), { metrics, log }) });
    sentAtStart = front.deps.upbit.requestsSent;
    // Stats read fresh at every scrape, so the daemon's health shows at once.
    observability = await startObservability({ deps: front.deps, metrics, eventLoop: lag, listen: { host: "127.0.0.1", port: 0, explicit: true }, log: silentLogger, storeStatsMaxAgeMs: 0 });
    base = `http://${observability.address}`;
  });

  afterAll(async () => {
    await observability?.stop();
    await front?.close();
    lag?.stop();
    await stack?.stop();
    removeDir(socketDir);
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const statusJson = async () => (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;
  /** Scrapes until `done` holds: some effects (a stream's end) have no event the test can await. */
  const scrapeUntil = async (done: (text: string) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = await scrape();
      if (done(text)) return text;
      if (Date.now() > deadline) throw new Error(`metrics never reached the expected state:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("counts unary RPCs by method, priority and code, and the upstream calls they cost or saved", async () => {
    const end = (Math.floor(Date.now() / CELL_MS) - 2) * CELL_MS;
    const request = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - CELL_MS), endMs: BigInt(end) };
    const cold = await front.client.getCandles(request);
    const warm = await front.client.getCandles(request);
    // Cold: fetched from Upbit (MIXED when the store knew part of the range); warm: the store alone.
    const coldSource = Source[cold.meta!.source];
    expect(["UPSTREAM", "MIXED"]).toContain(coldSource);
    expect(cold.meta!.upstreamCalls).toBeGreaterThanOrEqual(1);
    expect(warm.meta!.source).toBe(Source.STORE);
    await front.client.getTickers({ markets: ["KRW-BTC", "KRW-ETH"], priority: Priority.CRITICAL });
    await expect(front.client.getCandles({ ...request, market: "btc" })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(front.client.getTickers({ markets: ["KRW-BTC"], priority: 9 as Priority })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });

    const text = await scrape();
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", { method: "GetCandles", priority: "NORMAL", code: "OK" })).toBe(2);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", { method: "GetCandles", priority: "NORMAL", code: "INVALID_ARGUMENT" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", { method: "GetTickers", priority: "CRITICAL", code: "OK" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_duration_seconds_count", { method: "GetTickers", priority: "UNKNOWN", code: "INVALID_ARGUMENT" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetCandles", source: coldSource! })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_answers_total", { method: "GetCandles", source: "STORE" })).toBe(1);
    expect(sampleValue(text, "backbone_rpc_upstream_calls_total", { method: "GetCandles" })).toBe(cold.meta!.upstreamCalls);
    expect(sampleValue(text, "backbone_upstream_calls_saved_total", { method: "GetCandles" })).toBe(1);

    // Upstream requests per group, exactly as many as the simulator received.
    const traffic = await stack.traffic();
    let counted = 0;
    for (const group of UPBIT_RATE_GROUPS) {
      const value = sampleValue(text, "backbone_upstream_requests_total", { group }) ?? 0;
      expect(value, group).toBe(traffic[group]?.requests ?? 0);
      counted += value;
    }
    expect(sampleValue(text, "backbone_upstream_requests_total", { group: "candles" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, "backbone_upstream_requests_total", { group: "market" })).toBeGreaterThanOrEqual(1);
    expect(counted).toBe(front.deps.upbit.requestsSent - sentAtStart);
    // Every grant went through the queue-wait histogram.
    const grants = UPBIT_RATE_GROUPS.flatMap((group) => ["CRITICAL", "HIGH", "NORMAL", "LOW"].map((priority) => sampleValue(text, "backbone_rate_queue_wait_seconds_count", { group, priority }) ?? 0));
    expect(grants.reduce((a, b) => a + b, 0)).toBe(counted);
    for (const group of UPBIT_RATE_GROUPS) expect(sampleValue(text, "backbone_rate_budget_limit", { group })).toBe(10);
    expect(sampleValue(text, "backbone_store_up")).toBe(1);
    expect(sampleValue(text, "backbone_store_candle_rows")).toBeGreaterThanOrEqual(200);

    // One debug line per call, with what the metrics saw.
    const rpcLines = logLines.filter((l) => l.message === "rpc");
    expect(rpcLines).toHaveLength(5);
    expect(rpcLines.every((l) => l.level === "debug" && l.component === "gateway" && typeof l.ms === "number")).toBe(true);
    expect(rpcLines[1]).toMatchObject({ method: "GetCandles", priority: "NORMAL", code: "OK", upstreamCalls: 0, source: "STORE" });
    expect(rpcLines[3]).toMatchObject({ method: "GetCandles", priority: "NORMAL", code: "INVALID_ARGUMENT", upstreamCalls: 0 });
  });

  it("counts 429s and retries per group, as the simulator sent them", async () => {
    await stack.setFaults({ burst429: { count: 1 } });
    const end = (Math.floor(Date.now() / CELL_MS) - 2) * CELL_MS;
    await front.client.getCandles({ market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - CELL_MS), endMs: BigInt(end) });
    const text = await scrape();
    expect((await stack.traffic()).candles!.rejected_429).toBe(1);
    expect(sampleValue(text, "backbone_upstream_rate_limited_total", { group: "candles" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_retries_total", { group: "candles" })).toBe(1);
    expect(sampleValue(text, "backbone_upstream_blocked_total", { group: "candles" })).toBeUndefined();
  });

  it("shows streams while open and counts how they ended", async () => {
    const abort = new AbortController();
    const stream = front.client.streamTickers({ markets: ["KRW-BTC"], priority: Priority.CRITICAL }, { signal: abort.signal })[Symbol.asyncIterator]();
    await stream.next();
    const open = await scrape();
    expect(sampleValue(open, "backbone_streams_active", { method: "StreamTickers" })).toBe(1);
    expect(sampleValue(open, "backbone_realtime_subscribers", { type: "ticker", priority: "CRITICAL" })).toBe(1);
    expect(sampleValue(open, "backbone_realtime_upstream_topics")).toBeGreaterThanOrEqual(1);
    const during = await statusJson();
    expect(during.streams).toMatchObject({ active: [{ method: "StreamTickers", count: 1 }], activeTotal: 1, subscribers: 1 });

    abort.abort();
    await stream.next().catch(() => undefined);
    const ended = await scrapeUntil((t) => sampleValue(t, "backbone_streams_active", { method: "StreamTickers" }) === 0);
    expect(sampleValue(ended, "backbone_streams_total", { method: "StreamTickers", priority: "CRITICAL", code: "CANCELLED" })).toBe(1);

    // A stream refused by its handler ends with the status the client got.
    const refused = front.client.streamTickers({ markets: ["btc"] })[Symbol.asyncIterator]();
    await expect(refused.next()).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await scrapeUntil((t) => sampleValue(t, "backbone_streams_total", { method: "StreamTickers", priority: "NORMAL", code: "INVALID_ARGUMENT" }) === 1);
  });

  it("/status.json: rate budget per group, hit ratios, latency per priority, store, problems", async () => {
    const before = Date.now();
    createLogger("observability-test", "silent").warn("a problem for the status page", { apiKey: "must-not-show" });
    const s = await statusJson();
    expect(s.updatedAtMs).toBeGreaterThanOrEqual(before);
    expect(s.upstream.calls).toBe(front.deps.upbit.requestsSent);
    expect(s.upstream.saved).toBeGreaterThanOrEqual(1);
    expect(s.rateBudget.map((g) => g.group)).toEqual([...UPBIT_RATE_GROUPS]);
    const candles = s.rateBudget.find((g) => g.group === "candles")!;
    expect(candles).toMatchObject({ limit: 10, rateLimited: 1, retries: 1, queued: { CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 } });
    expect(candles.requests).toBe((await stack.traffic()).candles!.requests);
    expect(s.hitRatios.store.local).toBe(1);
    expect(s.hitRatios.store.total).toBe(3);
    expect(s.hitRatios.realtimeCache.total).toBe(1);
    const normal = s.latency.find((l) => l.priority === "NORMAL")!;
    expect(normal.count).toBe(4);
    expect(normal.p99Ms).toBeGreaterThanOrEqual(normal.p50Ms);
    expect(normal.p50Ms).toBeGreaterThan(0);
    expect(s.store).toMatchObject({ up: true });
    expect(s.store.databaseSizeBytes).toBeGreaterThan(0);
    expect(s.store.candleRows).toBeGreaterThanOrEqual(400);
    expect(s.store.series).toBe(2);
    expect(s.eventLoop.maxMs).toBeGreaterThanOrEqual(s.eventLoop.p99Ms);
    const problem = s.recentProblems.find((p) => p.message === "a problem for the status page");
    expect(problem).toMatchObject({ level: "warn", component: "observability-test", fields: { apiKey: "[redacted]" } });
    expect(JSON.stringify(s)).not.toContain("must-not-show");
  });

  it("reports the daemon down while it is, and up again after it restarts", async () => {
    stack.daemon.child.kill("SIGKILL");
    await stack.daemon.exited;
    const down = await scrape();
    expect(sampleValue(down, "backbone_store_up")).toBe(0);
    const s = await statusJson();
    expect(s.store.up).toBe(false);
    expect(s.store.error).toMatch(/unavailable|UNAVAILABLE|ECONNREFUSED|No connection/i);
    await stack.restartDaemon();
    const up = await scrapeUntil((t) => sampleValue(t, "backbone_store_up") === 1);
    expect(sampleValue(up, "backbone_store_up")).toBe(1);
  });
});
