/**
 * The gateway end to end as users run it: the simulator in its own process, the gateway as
 * `npm start` runs it (its own process, with the storage daemon as its sidecar), reached through a
 * real gRPC client on loopback from this process. Upbit's real limit (10 requests/s per group) on
 * both the simulator and the gateway's limiter.
 *
 * 1. Warm GetCandles 1,000: latency once cached, against the daemon's own read of the same rows,
 *    and against the floor: a grpc-js server (own process) answering the same bytes from memory.
 * 2. Cold 30-day 1-minute fetch at LOW: wall time against the rate-limit floor, zero 429s.
 * 3. CRITICAL GetTickers latency at a bot's steady pace while a LOW 30-day fetch of another
 *    market runs at full budget (from its first upstream call, for 15 s, before it finishes),
 *    against the same calls alone (half before the LOW run, half after).
 *
 * Each phase checks its answers (counts, zero upstream calls when warm, what the store holds) and
 * the simulator's counters (zero 429s, never above the limit in any second).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { execFile } from "node:child_process";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { setTimeout as delay } from "node:timers/promises";
import { GetCandlesRequestSchema, type GetCandlesResponse, GetCandlesResponseSchema, MarketDataService, Priority, Timeframe } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { columnsFromWire } from "../src/shared/candle-columns-wire.js";
import { createGrpcClient } from "../src/shared/grpc/client.js";
import { StorageService } from "../src/gen/backbone/storage/v1/storage_pb.js";
import { removeDir, tempDir } from "../test/support/daemon-process.js";
import { launchGatewayProcess } from "./gateway-process.js";
import { launchListening, type ListeningProcess } from "./listening-process.js";
import { type Latency, latency, paced, quantile, timed } from "./latency-stats.js";
import { machineInfo } from "./machine-info.js";
import { type GroupTraffic, launchSimulator, type SimProcess } from "./sim-process.js";
import type { Metric } from "./storage.bench.js";

const MINUTE = 60_000;
const CANNED_SERVER = new URL("./canned-answer-server.ts", import.meta.url).pathname;
const CANDLES_CALL = new URL("./candles-call-process.ts", import.meta.url).pathname;

/** One GetCandles in a child process (candles-call-process.ts); resolves with what it printed. */
function candlesCallInOwnProcess(address: string, request: unknown): Promise<{ candles: number; upstreamCalls: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", CANDLES_CALL, address, JSON.stringify(request)], { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the LOW fetch failed: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as { candles: number; upstreamCalls: number });
    });
  });
}
/** Upbit's page size: the gateway plans windows on a grid of 200-bucket cells. */
const CELL_MS = 200 * MINUTE;
/** Upbit's quotation limit, per group per second; the simulator's and the gateway limiter's default. */
const RATE_LIMIT = 10;
/** Above the default 20,000, so the 30-day fetch is one GetCandles request. */
const MAX_UNARY_CANDLES = 50_000;

const WARM_MARKET = "KRW-BTC";
const WARM_COUNT = 1_000;
const WARM_WARMUP = 50;
const WARM_ROUNDS = 3;
const WARM_CALLS_PER_ROUND = 100;
const WARM_TARGET_P99_MS = 5;

const COLD_MARKET = "KRW-ETH";
const COLD_BUCKETS = 30 * 24 * 60;
const COLD_TARGET_RATIO = 1.15;

/** The LOW fetch running under the CRITICAL calls: another market, so nothing of it is cached. */
const LOW_MARKET = "KRW-XRP";
const CRITICAL_MARKETS = 10;
const CRITICAL_INTERVAL_MS = 25;
const CRITICAL_WINDOW_MS = 15_000;
const CRITICAL_WARMUP = 40;
const CRITICAL_TARGET_RATIO = 1.5;
/** Unmeasured CRITICAL calls between the end of the LOW run and the second half of "alone". */
const SETTLE_MS = 1_000;
/** Longest wait for the LOW fetch's first upstream call. */
const LOW_START_TIMEOUT_MS = 30_000;

export interface GatewayBenchResult {
  benchmark: "gateway";
  startedAt: string;
  durationS: number;
  machine: ReturnType<typeof machineInfo>;
  params: {
    rateLimitPerSecond: number;
    maxUnaryCandles: number;
    warm: { market: string; count: number; endMs: number; warmup: number; rounds: number; callsPerRound: number };
    cold: { market: string; buckets: number; startMs: number; endMs: number; requests: "one GetCandles range request, PRIORITY_LOW" };
    critical: { markets: string[]; intervalMs: number; windowMs: number; lowMarket: string };
  };
  warm: { gateway: Latency; daemon: Latency; floor: Latency; gatewayServerMsP50: number; p50Ratio: number; p99Ratio: number; p99RatioToFloor: number };
  cold: {
    wallS: number;
    upstreamCalls: number;
    metaUpstreamCalls: number;
    floorS: number;
    ratioToFloor: number;
    candles: number;
    storedInRange: number;
    complete: boolean;
    traffic: Record<string, GroupTraffic>;
  };
  critical: {
    /** All calls; `cacheOnly`: the calls served from the realtime cache alone. */
    alone: Latency & { calls: number; upstreamCalls: number; cacheOnly: Latency; before: Latency; after: Latency };
    withLow: Latency & { calls: number; upstreamCalls: number; cacheOnly: Latency };
    p50Ratio: number;
    p99Ratio: number;
    /** Share of the measured window during which the LOW fetch was running. */
    overlap: number;
    /** Upstream candle calls the LOW fetch made during the window, per second. */
    lowCallsPerSecond: number;
    lowWallS: number;
    lowCandles: number;
    traffic: Record<string, GroupTraffic>;
  };
  targets: { name: string; target: string; value: number; ok: boolean }[];
  metrics: Metric[];
}


const maxPerSecond = (traffic: Record<string, GroupTraffic>) => Math.max(...Object.values(traffic).map((g) => g.max_per_second));
const rejected429 = (traffic: Record<string, GroupTraffic>) => Object.values(traffic).reduce((n, g) => n + g.rejected_429, 0);

export async function runGatewayBench(log: (msg: string) => void = () => undefined): Promise<GatewayBenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  // Every range ends on a cell boundary well in the past: nothing forming, whole windows only.
  const lastCell = Math.floor(Date.now() / CELL_MS) * CELL_MS;
  const warmEnd = lastCell - 5 * CELL_MS;
  const coldEnd = lastCell - 10 * CELL_MS;
  const coldStart = coldEnd - COLD_BUCKETS * MINUTE;

  const dataDir = tempDir("mdb-bench-gateway-");
  let sim: SimProcess | undefined;
  let gateway: ListeningProcess | undefined;
  let canned: ListeningProcess | undefined;
  const clients: { close(): void }[] = [];
  let failed = true;
  try {
    log("starting simulator, daemon and gateway");
    sim = await launchSimulator(["--port", "0", "--rate-limit", String(RATE_LIMIT)]);
    // `npm start` as a user runs it (gateway process, daemon sidecar), with Upbit's limits.
    gateway = await launchGatewayProcess({
      BACKBONE_LISTEN: "127.0.0.1:0",
      BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
      BACKBONE_DATA_DIR: dataDir,
      BACKBONE_MAX_CANDLES: String(MAX_UNARY_CANDLES),
      UPBIT_REST_URL: sim.restUrl,
      UPBIT_WS_URL: sim.wsUrl,
    });
    const address = String(gateway.listening.address);
    const client = createGrpcClient(MarketDataService, address);
    clients.push(client);
    // Bulk answers (MBs) travel on their own connection, as a separate backtester's would.
    const bulkClient = createGrpcClient(MarketDataService, address, { "grpc.use_local_subchannel_pool": 1 });
    clients.push(bulkClient);
    const store = createGrpcClient(StorageService, String(gateway.listening.storageAddress));
    clients.push(store);

    // 1. Warm GetCandles 1,000 against the daemon's GetLatestCandles of the same rows.
    log(`warm GetCandles ${WARM_COUNT} ${WARM_MARKET}`);
    const warmRequest = { market: WARM_MARKET, timeframe: Timeframe.MINUTE_1, count: WARM_COUNT, endMs: BigInt(warmEnd), priority: Priority.NORMAL };
    const first = await client.getCandles(warmRequest);
    if (first.candles.length !== WARM_COUNT) throw new Error(`cold GetCandles answered ${first.candles.length} candles, expected ${WARM_COUNT}`);
    const firstTime = first.candles[0]!.timeMs;
    const serverMs: number[] = [];
    const gatewayCall = async () => {
      const answer: GetCandlesResponse = await client.getCandles(warmRequest);
      if (answer.candles.length !== WARM_COUNT || answer.meta?.upstreamCalls !== 0 || answer.candles[0]!.timeMs !== firstTime) {
        throw new Error(`warm GetCandles answered ${answer.candles.length} candles from ${answer.candles[0]?.timeMs} with ${answer.meta?.upstreamCalls} upstream calls`);
      }
      serverMs.push(answer.meta.serverMs);
    };
    // The gateway reads the daemon with exactly this request (start = end - count buckets).
    const latestRequest = { market: WARM_MARKET, timeframe: Timeframe.MINUTE_1, startMs: BigInt(warmEnd - WARM_COUNT * MINUTE), endMs: BigInt(warmEnd), count: WARM_COUNT };
    const daemonCall = async () => {
      const c = columnsFromWire((await store.getLatestCandles(latestRequest)).candles, "candles");
      if (c.time.length !== WARM_COUNT || c.time[0] !== firstTime) throw new Error(`daemon answered ${c.time.length} candles from ${c.time[0]}`);
    };
    // The floor: the same answer's bytes from a server that does nothing else, decoded the same way.
    const answerFile = join(dataDir, "warm-answer.bin");
    writeFileSync(answerFile, toBinary(GetCandlesResponseSchema, first));
    canned = await launchListening(CANNED_SERVER, [answerFile]);
    const floorClient = createGrpcClient(MarketDataService, String(canned.listening.address));
    clients.push(floorClient);
    const floorCall = async () => {
      const answer = await floorClient.getCandles(warmRequest);
      if (answer.candles.length !== WARM_COUNT) throw new Error(`the canned server answered ${answer.candles.length} candles`);
    };
    for (let i = 0; i < WARM_WARMUP; i++) await gatewayCall();
    for (let i = 0; i < WARM_WARMUP; i++) await daemonCall();
    for (let i = 0; i < WARM_WARMUP; i++) await floorCall();
    serverMs.length = 0;
    const warmSamples = { gateway: [] as number[], daemon: [] as number[], floor: [] as number[] };
    // Alternating rounds, so drift (other load on the machine) hits all alike.
    for (let r = 0; r < WARM_ROUNDS; r++) {
      for (let i = 0; i < WARM_CALLS_PER_ROUND; i++) warmSamples.gateway.push((await timed(gatewayCall))[1]);
      for (let i = 0; i < WARM_CALLS_PER_ROUND; i++) warmSamples.daemon.push((await timed(daemonCall))[1]);
      for (let i = 0; i < WARM_CALLS_PER_ROUND; i++) warmSamples.floor.push((await timed(floorCall))[1]);
    }
    const warmGateway = latency(warmSamples.gateway);
    const warmDaemon = latency(warmSamples.daemon);
    const warmFloor = latency(warmSamples.floor);
    await canned.stop();
    canned = undefined;

    // 2. Cold 30-day 1-minute fetch, LOW, one request.
    log(`cold ${COLD_BUCKETS} x 1m ${COLD_MARKET} at PRIORITY_LOW`);
    await sim.reset();
    const coldRequest = { market: COLD_MARKET, timeframe: Timeframe.MINUTE_1, startMs: BigInt(coldStart), endMs: BigInt(coldEnd), priority: Priority.LOW };
    const [cold, coldMs] = await timed(() => bulkClient.getCandles(coldRequest));
    const coldTraffic = await sim.traffic();
    const coldCalls = coldTraffic.candles?.requests ?? 0;
    let storedInRange = 0;
    for await (const m of store.readCandles({ market: COLD_MARKET, timeframe: Timeframe.MINUTE_1, startMs: BigInt(coldStart), endMs: BigInt(coldEnd) })) {
      storedInRange += columnsFromWire(m.candles, "candles").time.length;
    }
    if (cold.candles.length !== storedInRange) throw new Error(`cold fetch answered ${cold.candles.length} candles, the store holds ${storedInRange}`);
    if (cold.candles.length === 0 || cold.candles.length > COLD_BUCKETS) throw new Error(`cold fetch answered ${cold.candles.length} candles for ${COLD_BUCKETS} buckets`);
    const coldWallS = coldMs / 1000;
    const floorS = coldCalls / RATE_LIMIT;

    // 3. CRITICAL GetTickers at a steady pace, alone, then under a LOW 30-day fetch of another market.
    const markets = (await client.listMarkets({ quoteCurrencies: ["KRW"] })).markets
      .map((m) => m.market)
      .filter((m) => m !== LOW_MARKET)
      .slice(0, CRITICAL_MARKETS);
    if (markets.length !== CRITICAL_MARKETS) throw new Error(`the simulator lists only ${markets.length} KRW markets`);
    /** Per call, in order: whether it went upstream (its cached tickers were older than 1 s). */
    let wentUpstream: boolean[] = [];
    const tickerCall = async () => {
      const answer = await client.getTickers({ markets, priority: Priority.CRITICAL });
      if (answer.tickers.length !== markets.length) throw new Error(`GetTickers answered ${answer.tickers.length} tickers for ${markets.length} markets`);
      wentUpstream.push((answer.meta?.upstreamCalls ?? 0) > 0);
    };
    const criticalLatency = (samples: readonly number[], upstream: readonly boolean[]) => ({
      ...latency(samples),
      calls: samples.length,
      upstreamCalls: upstream.filter(Boolean).length,
      cacheOnly: latency(samples.filter((_, i) => !upstream[i])),
    });
    // Alone: two half windows, before and after the LOW run, so drift (other load on the machine) hits both alike.
    const aloneHalf = async (): Promise<{ samples: number[]; upstream: boolean[] }> => {
      wentUpstream = [];
      const until = performance.now() + CRITICAL_WINDOW_MS / 2;
      return { samples: await paced(CRITICAL_INTERVAL_MS, () => performance.now() >= until, tickerCall), upstream: wentUpstream };
    };
    for (let i = 0; i < CRITICAL_WARMUP; i++) await tickerCall();

    log(`CRITICAL GetTickers alone, every ${CRITICAL_INTERVAL_MS} ms for ${CRITICAL_WINDOW_MS / 2000} s`);
    await sim.reset();
    const aloneBefore = await aloneHalf();

    log(`CRITICAL GetTickers under a LOW ${COLD_BUCKETS} x 1m fetch of ${LOW_MARKET}`);
    await sim.reset();
    const lowStarted = performance.now();
    let lowEnded: number | undefined;
    // In its own process, as a backtester would be: decoding its 43,200 candles must not stall the timed calls here.
    const low = candlesCallInOwnProcess(address, toJson(GetCandlesRequestSchema, create(GetCandlesRequestSchema, { ...coldRequest, market: LOW_MARKET }))).finally(
      () => (lowEnded = performance.now()),
    );
    // Not awaited until the window is over; a failure then surfaces there, not as an unhandled rejection.
    low.catch(() => undefined);
    // Measure only once the LOW fetch is spending upstream budget.
    const waitUntil = performance.now() + LOW_START_TIMEOUT_MS;
    let lowCallsAtStart = 0;
    while ((lowCallsAtStart = (await sim.traffic()).candles?.requests ?? 0) === 0) {
      if (lowEnded !== undefined) await low; // surfaces its error, if it failed
      if (lowEnded !== undefined || performance.now() > waitUntil) throw new Error("the LOW fetch made no upstream call");
      await delay(10);
    }
    wentUpstream = [];
    const windowStart = performance.now();
    const until = windowStart + CRITICAL_WINDOW_MS;
    const withSamples = await paced(CRITICAL_INTERVAL_MS, () => performance.now() >= until || lowEnded !== undefined, tickerCall);
    const windowEnd = performance.now();
    const lowCallsInWindow = ((await sim.traffic()).candles?.requests ?? 0) - lowCallsAtStart;
    const overlap = (Math.min(windowEnd, lowEnded ?? windowEnd) - windowStart) / (windowEnd - windowStart);
    const withLow = criticalLatency(withSamples, wentUpstream);
    log("waiting for the LOW fetch to finish");
    const lowAnswer = await low;
    const lowWallS = ((lowEnded ?? performance.now()) - lowStarted) / 1000;
    log(`CRITICAL GetTickers alone again for ${CRITICAL_WINDOW_MS / 2000} s`);
    // Unmeasured calls first: the LOW run's last writes and the big answer's garbage settle.
    const settleUntil = performance.now() + SETTLE_MS;
    await paced(CRITICAL_INTERVAL_MS, () => performance.now() >= settleUntil, tickerCall);
    const aloneAfter = await aloneHalf();
    const alone = {
      ...criticalLatency([...aloneBefore.samples, ...aloneAfter.samples], [...aloneBefore.upstream, ...aloneAfter.upstream]),
      before: latency(aloneBefore.samples),
      after: latency(aloneAfter.samples),
    };
    const criticalTraffic = await sim.traffic();

    const warmP50Ratio = warmGateway.p50Ms / warmDaemon.p50Ms;
    const warmP99Ratio = warmGateway.p99Ms / warmDaemon.p99Ms;
    const ratioToFloor = coldWallS / floorS;
    const criticalP50Ratio = withLow.p50Ms / alone.p50Ms;
    const criticalP99Ratio = withLow.p99Ms / alone.p99Ms;
    const coldMaxPerSecond = maxPerSecond(coldTraffic);
    const criticalMaxPerSecond = maxPerSecond(criticalTraffic);
    const total429 = rejected429(coldTraffic) + rejected429(criticalTraffic);

    const targets = [
      { name: "warm GetCandles 1000 p99 ms", target: `< ${WARM_TARGET_P99_MS}`, value: warmGateway.p99Ms, ok: warmGateway.p99Ms < WARM_TARGET_P99_MS },
      { name: "cold 30d fetch / rate-limit floor", target: `<= ${COLD_TARGET_RATIO}`, value: ratioToFloor, ok: ratioToFloor <= COLD_TARGET_RATIO },
      { name: "cold 30d fetch max requests/s", target: `<= ${RATE_LIMIT}`, value: coldMaxPerSecond, ok: coldMaxPerSecond <= RATE_LIMIT },
      { name: "CRITICAL p99 with LOW / alone", target: `<= ${CRITICAL_TARGET_RATIO}`, value: criticalP99Ratio, ok: criticalP99Ratio <= CRITICAL_TARGET_RATIO },
      { name: "CRITICAL-under-LOW max requests/s", target: `<= ${RATE_LIMIT}`, value: criticalMaxPerSecond, ok: criticalMaxPerSecond <= RATE_LIMIT },
      { name: "429s", target: "= 0", value: total429, ok: total429 === 0 },
    ];
    const metrics: Metric[] = [
      { name: "warm GetCandles 1000 p50 (vs daemon)", unit: "ms", value: warmGateway.p50Ms, baseline: warmDaemon.p50Ms, ratio: warmP50Ratio },
      { name: "warm GetCandles 1000 p99 (vs daemon)", unit: "ms", value: warmGateway.p99Ms, baseline: warmDaemon.p99Ms, ratio: warmP99Ratio, target: `< ${WARM_TARGET_P99_MS} ms`, ok: targets[0]!.ok },
      { name: "warm GetCandles 1000 max (vs daemon)", unit: "ms", value: warmGateway.maxMs, baseline: warmDaemon.maxMs },
      { name: "warm GetCandles 1000 p50 (vs canned floor)", unit: "ms", value: warmGateway.p50Ms, baseline: warmFloor.p50Ms, ratio: warmGateway.p50Ms / warmFloor.p50Ms },
      { name: "warm GetCandles 1000 p99 (vs canned floor)", unit: "ms", value: warmGateway.p99Ms, baseline: warmFloor.p99Ms, ratio: warmGateway.p99Ms / warmFloor.p99Ms },
      { name: "warm GetCandles 1000 server_ms p50", unit: "ms", value: quantile([...serverMs].sort((a, b) => a - b), 0.5) },
      { name: `cold 30d 1m s (vs ${coldCalls} calls / ${RATE_LIMIT}/s)`, unit: "s", value: coldWallS, baseline: floorS, ratio: ratioToFloor, target: `ratio <= ${COLD_TARGET_RATIO}`, ok: targets[1]!.ok },
      { name: "cold 30d 1m max requests/s", unit: "", value: coldMaxPerSecond, target: `<= ${RATE_LIMIT}`, ok: targets[2]!.ok },
      { name: "cold 30d 1m candles (vs stored)", unit: "", value: cold.candles.length, baseline: storedInRange, ratio: cold.candles.length / storedInRange },
      { name: "429s (cold fetch + CRITICAL/LOW)", unit: "", value: total429, target: "= 0", ok: targets[5]!.ok },
      { name: "CRITICAL GetTickers p50 (LOW vs alone)", unit: "ms", value: withLow.p50Ms, baseline: alone.p50Ms, ratio: criticalP50Ratio },
      { name: "CRITICAL GetTickers p99 (LOW vs alone)", unit: "ms", value: withLow.p99Ms, baseline: alone.p99Ms, ratio: criticalP99Ratio, target: `ratio <= ${CRITICAL_TARGET_RATIO}`, ok: targets[3]!.ok },
      { name: "CRITICAL GetTickers max (LOW vs alone)", unit: "ms", value: withLow.maxMs, baseline: alone.maxMs },
      { name: "CRITICAL cache-hit p99 (LOW vs alone)", unit: "ms", value: withLow.cacheOnly.p99Ms, baseline: alone.cacheOnly.p99Ms, ratio: withLow.cacheOnly.p99Ms / alone.cacheOnly.p99Ms },
      { name: "CRITICAL/LOW max requests/s", unit: "", value: criticalMaxPerSecond, target: `<= ${RATE_LIMIT}`, ok: targets[4]!.ok },
      { name: "LOW candle calls/s during window", unit: "", value: lowCallsInWindow / ((windowEnd - windowStart) / 1000) },
      { name: "window overlapped by LOW (%)", unit: "", value: overlap * 100 },
    ];

    failed = false;
    return {
      benchmark: "gateway",
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: machineInfo(),
      params: {
        rateLimitPerSecond: RATE_LIMIT,
        maxUnaryCandles: MAX_UNARY_CANDLES,
        warm: { market: WARM_MARKET, count: WARM_COUNT, endMs: warmEnd, warmup: WARM_WARMUP, rounds: WARM_ROUNDS, callsPerRound: WARM_CALLS_PER_ROUND },
        cold: { market: COLD_MARKET, buckets: COLD_BUCKETS, startMs: coldStart, endMs: coldEnd, requests: "one GetCandles range request, PRIORITY_LOW" },
        critical: { markets, intervalMs: CRITICAL_INTERVAL_MS, windowMs: CRITICAL_WINDOW_MS, lowMarket: LOW_MARKET },
      },
      warm: { gateway: warmGateway, daemon: warmDaemon, floor: warmFloor, p99RatioToFloor: warmGateway.p99Ms / warmFloor.p99Ms, gatewayServerMsP50: quantile([...serverMs].sort((a, b) => a - b), 0.5), p50Ratio: warmP50Ratio, p99Ratio: warmP99Ratio },
      cold: {
        wallS: coldWallS,
        upstreamCalls: coldCalls,
        metaUpstreamCalls: cold.meta?.upstreamCalls ?? 0,
        floorS,
        ratioToFloor,
        candles: cold.candles.length,
        storedInRange,
        complete: cold.meta?.complete ?? false,
        traffic: coldTraffic,
      },
      critical: {
        alone,
        withLow,
        p50Ratio: criticalP50Ratio,
        p99Ratio: criticalP99Ratio,
        overlap,
        lowCallsPerSecond: lowCallsInWindow / ((windowEnd - windowStart) / 1000),
        lowWallS,
        lowCandles: lowAnswer.candles,
        traffic: criticalTraffic,
      },
      targets,
      metrics,
    };
  } finally {
    // Clean up everything; a cleanup error is reported only when the run itself succeeded.
    for (const c of clients) c.close();
    try {
      const code = gateway === undefined ? 0 : await gateway.stop();
      if (code !== 0 && !failed) throw new Error(`gateway exited with ${code}`);
    } finally {
      await canned?.stop();
      await sim?.stop();
      removeDir(dataDir);
    }
  }
}
