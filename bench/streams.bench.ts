/**
 * Live streams through the gateway: the simulator in its own process, the gateway as `npm start`
 * runs it (its own process, daemon sidecar; a fresh one per stream type), subscribers in
 * subscriber processes (streams-worker.ts, bare HTTP/2 gRPC calls), and a reference WebSocket
 * client straight to the simulator in this process. Every subscriber streams the 20 busiest KRW
 * markets.
 *
 * 1. Added latency: per upstream message, a subscriber's receive time minus the reference
 *    client's receive time of the same message (same machine, CLOCK_MONOTONIC), p50/p99 at 1,
 *    100 and 1,000 subscribers. The simulator's `timestamp` is not a send time (it is the
 *    "stored at" time, up to a 100 ms feed tick earlier), so the brief's "receive −
 *    timestamp_ms" is reported too, for the subscribers and for the reference client.
 * 2. Updates per second delivered to 1,000 subscribers together, against the upstream rate times
 *    1,000 (every update to every subscriber, nothing conflated).
 * 3. Gateway memory per subscriber: the gateway process's VmRSS before and with 1,000
 *    subscribers reading, then with the same 1,000 no longer reading for STALL_MS.
 * 4. The fan-out floor: added latency at 100 subscribers from a bare grpc-js server that forwards
 *    the simulator's messages (streams-floor-server.ts), measured the same way: what the gateway's
 *    own plumbing costs beyond grpc-js on this machine.
 * All of it for StreamTickers (the brief) and StreamOrderbooks: the simulator's tickers are
 * sparse (1-3 a second over 20 markets) while its books move ~90 times a second, which is where
 * fan-out and conflation are under load.
 */
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { removeDir, tempDir } from "../test/support/daemon-process.js";
import { launchGatewayProcess } from "./gateway-process.js";
import { launchListening, type ListeningProcess } from "./listening-process.js";
import { machineInfo } from "./machine-info.js";
import { launchSimulator, type SimProcess } from "./sim-process.js";
import type { Metric } from "./storage.bench.js";
import { monotonicMs } from "./streams-grpc-reader.js";
import { LatencyHistogram, type Percentiles } from "./streams-latency.js";
import { cpuMs, loadAverage } from "./process-cpu.js";
import { rssMiB } from "./process-rss.js";
import type { StreamKind } from "./streams-proto-scan.js";
import { ReferenceReceiver } from "./streams-reference.js";
import type { WorkerReport } from "./streams-worker.js";
import { type SubscriberProcess, split, startSubscriberProcesses } from "./streams-workers.js";

const FLOOR_MAIN = new URL("./streams-floor-server.ts", import.meta.url).pathname;

/** The busiest KRW markets by 24 h traded value. */
const MARKETS = 20;
/**
 * Subscriber processes: every core but the gateway's. One process drains 1,000 subscribers at
 * ~10 µs a message and ~0.1 core; on 2 cores a second one would compete with the gateway for
 * CPU during each fan-out burst instead (two gave no better figures here).
 */
const SUBSCRIBER_PROCESSES = Math.max(1, availableParallelism() - 1);
/** Subscribers per HTTP/2 connection (1,000 subscribers: 100 connections). */
const STREAMS_PER_CONNECTION = 10;
/** Levels per side of the book streams (Upbit's full book). */
const BOOK_DEPTH = 30;
const COUNTS = [1, 100, 1_000] as const;
const WARMUP_MS = 2_000;
const WINDOW_MS: Record<StreamKind, Record<(typeof COUNTS)[number], number>> = {
  ticker: { 1: 15_000, 100: 15_000, 1000: 15_000 },
  orderbook: { 1: 8_000, 100: 8_000, 1000: 12_000 },
};
/**
 * How long stalled subscribers stay stalled while the gateway's memory is sampled (once a
 * second): long enough for every flow-control window to fill and the backlog to stop growing.
 */
const STALL_MS = 12_000;
/** The growth over the stall's last this many seconds shows whether memory stays bounded. */
const STALL_TAIL_S = 4;
/** After closing subscribers, before a "before" memory reading. */
const SETTLE_MS = 1_500;
const RSS_SAMPLE_MS = 500;
const TARGET_SUBSCRIBERS = 100;
const TARGET_P99_ADDED_MS = 2;

interface Cores {
  gateway: number;
  simulator: number;
  /** All subscriber processes together. */
  subscribers: number;
}

export interface StreamsPoint {
  /** What served the streams: the gateway, or the fan-out floor (streams-floor-server.ts). */
  server: StreamServer["name"];
  kind: StreamKind;
  subscribers: number;
  windowS: number;
  /** Live upstream messages per second the reference client received for the markets. */
  upstreamPerS: number;
  /** Live messages per second all subscribers together received. */
  deliveredPerS: number;
  /** upstreamPerS × subscribers: every update to every subscriber, nothing conflated. */
  idealPerS: number;
  /** Subscriber receive − reference receive of the same upstream message. */
  added: Percentiles;
  /** Mean added latency per second of the window: steady, or growing (falling behind)? */
  addedMeanBySecondMs: number[];
  /** Subscriber messages the reference had no stamp for. */
  unmatched: number;
  /** Receive − the message's `timestamp_ms`, for subscribers and for the reference client. */
  sinceStamp: { gateway: Percentiles; direct: Percentiles };
  cpuCores: Cores;
  /** The subscriber processes' CPU per message received, µs. */
  subscriberCpuUsPerMessage: number;
  /**
   * How long a subscriber process takes to drain one update fanned out to all its subscribers
   * (subscribers per process × µs per message): the most the client side adds to the last
   * subscriber's latency.
   */
  subscriberBurstDrainMs: number;
  subscriberLoopDelayP99Ms: number;
  subscriberLoopDelayMaxMs: number;
}

export interface MemoryResult {
  kind: StreamKind;
  subscribers: number;
  /** Gateway VmRSS, MiB: warmed up (one subscriber came and went), before the subscribers opened. */
  beforeMiB: number;
  /** Once every subscriber had its snapshots. */
  readyMiB: number;
  /** Median and max while they read (the measured window). */
  readingMedianMiB: number;
  readingMaxMiB: number;
  /** (readingMedianMiB − beforeMiB) / subscribers. */
  readingPerSubscriberKiB: number;
  stalledS: number;
  /** Once a second while every subscriber had stopped reading. */
  stalledSamplesMiB: number[];
  /** (max while stalled − beforeMiB) / subscribers. */
  stalledPerSubscriberKiB: number;
  /** Growth over the last STALL_TAIL_S seconds of the stall: near zero when the backlog is bounded. */
  stalledTailGrowthMiB: number;
  stalledGatewayCpuCores: number;
}

export interface StreamsBenchResult {
  benchmark: "streams";
  startedAt: string;
  durationS: number;
  machine: ReturnType<typeof machineInfo>;
  loadAverage: { start: ReturnType<typeof loadAverage>; end: ReturnType<typeof loadAverage> };
  params: {
    markets: string[];
    marketChoice: string;
    subscriberProcesses: number;
    streamsPerConnection: number;
    bookDepth: number;
    warmupMs: number;
    windowMs: typeof WINDOW_MS;
    stallMs: number;
    latency: string;
  };
  points: StreamsPoint[];
  memory: MemoryResult[];
  targets: { name: string; target: string; value: number; ok: boolean }[];
  metrics: Metric[];
}

interface GatewayUnderTest extends StreamServer {
  stop(): Promise<void>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};

/** Samples `f` every RSS_SAMPLE_MS until the returned stop is called. */
function sampler(f: () => number): () => number[] {
  const samples = [f()];
  const timer = setInterval(() => samples.push(f()), RSS_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    samples.push(f());
    return samples;
  };
}

async function busiestKrwMarkets(restUrl: string, n: number): Promise<string[]> {
  const res = await fetch(`${restUrl}/v1/ticker/all?quote_currencies=KRW`);
  if (res.status !== 200) throw new Error(`/v1/ticker/all answered ${res.status}`);
  const tickers = (await res.json()) as { market: string; acc_trade_price_24h: number }[];
  const markets = tickers.sort((a, b) => b.acc_trade_price_24h - a.acc_trade_price_24h).slice(0, n).map((t) => t.market);
  if (markets.length !== n) throw new Error(`the simulator lists only ${markets.length} KRW markets`);
  return markets;
}

/** `npm start`'s gateway (daemon sidecar included) against the simulator, in a fresh data dir. */
async function startGateway(sim: SimProcess): Promise<GatewayUnderTest> {
  const dataDir = tempDir("mdb-bench-streams-");
  let gateway: ListeningProcess;
  try {
    gateway = await launchGatewayProcess({
      BACKBONE_LISTEN: "127.0.0.1:0",
      BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
      BACKBONE_DATA_DIR: dataDir,
      UPBIT_REST_URL: sim.restUrl,
      UPBIT_WS_URL: sim.wsUrl,
      // Every subscriber here is one client (this machine): above the 1,000 rounds, with room for streams still closing.
      BACKBONE_MAX_STREAMS_PER_CLIENT: "2000",
    });
  } catch (e) {
    removeDir(dataDir);
    throw e;
  }
  const stop = async (): Promise<void> => {
    try {
      const code = await gateway.stop();
      if (code !== 0) throw new Error(`gateway exited with ${code}`);
    } finally {
      removeDir(dataDir);
    }
  };
  return { name: "gateway", address: String(gateway.listening.address), pid: gateway.pid, stop };
}

interface KindRun {
  points: StreamsPoint[];
  memory: MemoryResult;
}

interface BenchContext {
  sim: SimProcess;
  simPid: number;
  markets: string[];
  reference: ReferenceReceiver;
  subscribers: SubscriberProcess[];
  log: (msg: string) => void;
}

/** What the subscribers stream from: the gateway, or the fan-out floor. */
interface StreamServer {
  readonly name: "gateway" | "floor";
  readonly address: string;
  readonly pid: number;
}

/** Opens `count` subscribers of `kind` on `server`, spread over the subscriber processes. */
async function openSubscribers(ctx: BenchContext, server: StreamServer, kind: StreamKind, count: number): Promise<SubscriberProcess[]> {
  const shares = split(count, ctx.subscribers.length);
  const used = ctx.subscribers.filter((_, i) => shares[i]! > 0);
  await Promise.all(
    used.map((s, i) =>
      s.call({ op: "open", spec: { address: server.address, kind, markets: ctx.markets, depth: BOOK_DEPTH, count: shares[i]!, streamsPerConnection: STREAMS_PER_CONNECTION } }),
    ),
  );
  return used;
}

async function closeSubscribers(ctx: BenchContext): Promise<void> {
  const errors = (await Promise.all(ctx.subscribers.map((s) => s.call<string[]>({ op: "close" })))).flat();
  if (errors.length > 0) throw new Error(`subscriber errors: ${errors.slice(0, 5).join("; ")}`);
}

/** The server's upstream subscription and JIT warmed up, with one subscriber come and gone. */
async function warmUp(ctx: BenchContext, server: StreamServer, kind: StreamKind): Promise<void> {
  await openSubscribers(ctx, server, kind, 1);
  await delay(WARMUP_MS);
  await closeSubscribers(ctx);
}

/** Opens `count` subscribers, warms up, measures one window; leaves them open. */
async function measure(
  ctx: BenchContext,
  server: StreamServer,
  kind: StreamKind,
  count: (typeof COUNTS)[number],
): Promise<{ point: StreamsPoint; used: SubscriberProcess[]; readyMiB: number; readingMiB: number[] }> {
  const { simPid, reference: ref, log } = ctx;
  const serverRss = () => rssMiB(server.pid);
  const windowMs = WINDOW_MS[kind][count];
  log(`${kind}: ${count} subscriber(s), ${WARMUP_MS / 1000} s warm-up, ${windowMs / 1000} s window`);
  const used = await openSubscribers(ctx, server, kind, count);
  const readyMiB = serverRss();
  await delay(WARMUP_MS);
  const cpu0 = { gateway: cpuMs(server.pid), simulator: cpuMs(simPid) };
  const stopSampling = sampler(serverRss);
  ref.startWindow();
  const start = monotonicMs();
  await Promise.all(used.map((s) => s.call({ op: "record" })));
  await delay(windowMs);
  await Promise.all(used.map((s) => s.call({ op: "stop" })));
  const elapsedMs = monotonicMs() - start;
  const cpu1 = { gateway: cpuMs(server.pid), simulator: cpuMs(simPid) };
  const readingMiB = stopSampling();
  const refWindow = ref.endWindow(kind);
  // Every message the subscribers got was stamped by the reference long before; this only
  // lets the reference's own last frames land.
  await delay(200);
  const stamps = ref.stamps(kind);
  const reports = await Promise.all(used.map((s) => s.call<WorkerReport>({ op: "report", refs: stamps })));
  const received = reports.reduce((n, r) => n + r.updates, 0);
  const subscriberCpuMs = reports.reduce((n, r) => n + r.cpuMs, 0);
  const upstreamPerS = refWindow.updates / (refWindow.windowMs / 1000);
  const seconds = Math.max(...reports.map((r) => r.addedMeanBySecondMs.length));
  const addedMeanBySecondMs = Array.from({ length: seconds }, (_, i) => {
    const means = reports.map((r) => r.addedMeanBySecondMs[i]).filter((x): x is number => x !== undefined && !Number.isNaN(x));
    return means.length === 0 ? Number.NaN : means.reduce((a, b) => a + b, 0) / means.length;
  });
  const point: StreamsPoint = {
    server: server.name,
    kind,
    subscribers: count,
    windowS: elapsedMs / 1000,
    upstreamPerS,
    deliveredPerS: reports.reduce((n, r) => n + r.updates / (r.windowMs / 1000), 0),
    idealPerS: upstreamPerS * count,
    added: LatencyHistogram.of(...reports.map((r) => r.added)).percentiles(),
    addedMeanBySecondMs,
    unmatched: reports.reduce((n, r) => n + r.unmatched, 0),
    sinceStamp: {
      gateway: LatencyHistogram.of(...reports.map((r) => r.sinceStamp)).percentiles(),
      direct: LatencyHistogram.of(refWindow.sinceStamp).percentiles(),
    },
    cpuCores: {
      gateway: (cpu1.gateway - cpu0.gateway) / elapsedMs,
      simulator: (cpu1.simulator - cpu0.simulator) / elapsedMs,
      subscribers: reports.reduce((n, r) => n + r.cpuMs / r.windowMs, 0),
    },
    subscriberCpuUsPerMessage: received === 0 ? Number.NaN : (subscriberCpuMs * 1000) / received,
    subscriberBurstDrainMs: received === 0 ? Number.NaN : (Math.ceil(count / used.length) * subscriberCpuMs) / received,
    subscriberLoopDelayP99Ms: Math.max(...reports.map((r) => r.loopDelayP99Ms)),
    subscriberLoopDelayMaxMs: Math.max(...reports.map((r) => r.loopDelayMaxMs)),
  };
  // A few samples a few ms below zero are the reference's own scheduling; many, or far below, are not.
  if (point.added.belowZero > point.added.count / 10 || point.added.minMs < -100) {
    log(`  ${point.added.belowZero} of ${point.added.count} samples arrived before the reference client's (lowest ${point.added.minMs.toFixed(1)} ms): this point's latency is not to be trusted`);
  }
  return { point, used, readyMiB, readingMiB };
}

/**
 * One stream type on a fresh gateway: 1,000 subscribers first (so the memory baseline is a
 * gateway that has seen little traffic), then the same 1,000 stalled, then 1 and 100.
 */
async function runKind(kind: StreamKind, ctx: BenchContext): Promise<KindRun> {
  const { log } = ctx;
  log(`${kind}: starting a fresh gateway`);
  const gw = await startGateway(ctx.sim);
  let ok = false;
  try {
    const gatewayRss = () => rssMiB(gw.pid);
    const settledRss = async (): Promise<number> => {
      await delay(SETTLE_MS);
      const samples = [gatewayRss()];
      for (let i = 0; i < 2; i++) samples.push((await delay(RSS_SAMPLE_MS), gatewayRss()));
      return median(samples);
    };

    await warmUp(ctx, gw, kind);
    const beforeMiB = await settledRss();
    const big = await measure(ctx, gw, kind, 1_000);

    log(`${kind}: the same 1000 subscribers stop reading for ${STALL_MS / 1000} s`);
    await Promise.all(big.used.map((s) => s.call({ op: "stall" })));
    const cpu0 = cpuMs(gw.pid);
    const stallStart = monotonicMs();
    const stalledSamplesMiB: number[] = [];
    for (let i = 0; i <= STALL_MS / 1000; i++) {
      if (i > 0) await delay(stallStart + i * 1000 - monotonicMs());
      stalledSamplesMiB.push(gatewayRss());
    }
    const stalledGatewayCpuCores = (cpuMs(gw.pid) - cpu0) / (monotonicMs() - stallStart);
    await closeSubscribers(ctx);
    const readingMedianMiB = median(big.readingMiB);
    const memory: MemoryResult = {
      kind,
      subscribers: 1_000,
      beforeMiB,
      readyMiB: big.readyMiB,
      readingMedianMiB,
      readingMaxMiB: Math.max(...big.readingMiB),
      readingPerSubscriberKiB: ((readingMedianMiB - beforeMiB) * 1024) / 1_000,
      stalledS: STALL_MS / 1000,
      stalledSamplesMiB,
      stalledPerSubscriberKiB: ((Math.max(...stalledSamplesMiB) - beforeMiB) * 1024) / 1_000,
      stalledTailGrowthMiB: stalledSamplesMiB[stalledSamplesMiB.length - 1]! - stalledSamplesMiB[stalledSamplesMiB.length - 1 - STALL_TAIL_S]!,
      stalledGatewayCpuCores,
    };

    const points = [big.point];
    for (const count of [1, 100] as const) {
      await delay(SETTLE_MS);
      points.push((await measure(ctx, gw, kind, count)).point);
      await closeSubscribers(ctx);
    }
    ok = true;
    return { points: points.sort((a, b) => a.subscribers - b.subscribers), memory };
  } finally {
    // A failed stop is reported only when the run itself succeeded; otherwise its error stands.
    await gw.stop().catch((e: unknown) => {
      if (ok) throw e;
    });
  }
}

/**
 * The fan-out floor (streams-floor-server.ts) measured as the gateway is, at the target count:
 * what any grpc-js server on this machine adds to get one upstream message to that many subscribers.
 */
async function runFloor(ctx: BenchContext): Promise<StreamsPoint[]> {
  ctx.log("fan-out floor: a bare grpc-js server forwarding the simulator's messages");
  const floor = await launchListening(FLOOR_MAIN, [ctx.sim.wsUrl, ctx.markets.join(",")]);
  try {
    const server: StreamServer = { name: "floor", address: String(floor.listening.address), pid: floor.pid };
    const points: StreamsPoint[] = [];
    for (const kind of ["ticker", "orderbook"] as const) {
      await warmUp(ctx, server, kind);
      points.push((await measure(ctx, server, kind, TARGET_SUBSCRIBERS)).point);
      await closeSubscribers(ctx);
    }
    return points;
  } finally {
    await floor.stop();
  }
}

function metricsOf(points: readonly StreamsPoint[], memory: readonly MemoryResult[], targetOk: boolean): Metric[] {
  const metrics: Metric[] = [];
  for (const kind of ["ticker", "orderbook"] as const) {
    const label = kind === "ticker" ? "tickers" : `books d${BOOK_DEPTH}`;
    const at = (count: number, server: StreamServer["name"] = "gateway") => points.find((p) => p.server === server && p.kind === kind && p.subscribers === count)!;
    for (const count of COUNTS) {
      const p = at(count);
      metrics.push({ name: `${label} added p50 @${count}`, unit: "ms", value: p.added.p50Ms });
      const isTarget = kind === "ticker" && count === TARGET_SUBSCRIBERS;
      metrics.push({ name: `${label} added p99 @${count}`, unit: "ms", value: p.added.p99Ms, ...(isTarget ? { target: `< ${TARGET_P99_ADDED_MS} ms`, ok: targetOk } : {}) });
    }
    const [gw, floor] = [at(TARGET_SUBSCRIBERS), at(TARGET_SUBSCRIBERS, "floor")];
    for (const q of ["p50Ms", "p99Ms"] as const) {
      metrics.push({ name: `${label} added ${q.slice(0, 3)} @${TARGET_SUBSCRIBERS} (vs fan-out floor)`, unit: "ms", value: gw.added[q], baseline: floor.added[q], ratio: gw.added[q] / floor.added[q] });
    }
    const big = at(1_000);
    // Seconds without any update (sparse tickers) have no mean.
    const seconds = big.addedMeanBySecondMs.filter((x) => !Number.isNaN(x));
    const firstS = seconds[0] ?? Number.NaN;
    const lastS = seconds[seconds.length - 1] ?? Number.NaN;
    metrics.push({ name: `${label} added mean @1000, last s (vs first s)`, unit: "ms", value: lastS, baseline: firstS, ratio: lastS / firstS });
    if (kind === "ticker") {
      const t = at(TARGET_SUBSCRIBERS);
      const diff = t.sinceStamp.gateway.p99Ms - t.sinceStamp.direct.p99Ms;
      metrics.push({ name: `${label} recv-timestamp_ms p99 @${TARGET_SUBSCRIBERS} (vs direct WS)`, unit: "ms", value: t.sinceStamp.gateway.p99Ms, baseline: t.sinceStamp.direct.p99Ms, ratio: t.sinceStamp.gateway.p99Ms / t.sinceStamp.direct.p99Ms });
      metrics.push({ name: `${label} recv-timestamp_ms p99 difference @${TARGET_SUBSCRIBERS}`, unit: "ms", value: diff });
    }
    metrics.push({ name: `${label} delivered/s @1000 (vs upstream/s x 1000)`, unit: "", value: big.deliveredPerS, baseline: big.idealPerS, ratio: big.deliveredPerS / big.idealPerS });
    metrics.push({ name: `${label} CPU cores @1000: gateway (vs subscribers)`, unit: "", value: big.cpuCores.gateway, baseline: big.cpuCores.subscribers });
    metrics.push({ name: `${label} subscriber loop delay p99 @1000`, unit: "ms", value: big.subscriberLoopDelayP99Ms });
    metrics.push({ name: `${label} subscriber drain of one update @1000 (est.)`, unit: "ms", value: big.subscriberBurstDrainMs });
    const m = memory.find((x) => x.kind === kind)!;
    metrics.push({ name: `${label} gateway KiB/subscriber, 1000 reading`, unit: "", value: m.readingPerSubscriberKiB });
    metrics.push({ name: `${label} gateway KiB/subscriber, 1000 stalled`, unit: "", value: m.stalledPerSubscriberKiB });
    metrics.push({ name: `${label} gateway RSS MiB growth, last ${STALL_TAIL_S} s of ${STALL_MS / 1000} s stalled`, unit: "", value: m.stalledTailGrowthMiB });
  }
  return metrics;
}

export async function runStreamsBench(log: (msg: string) => void = () => undefined): Promise<StreamsBenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAtStart = loadAverage();
  let sim: SimProcess | undefined;
  let reference: ReferenceReceiver | undefined;
  let subscribers: SubscriberProcess[] = [];
  try {
    log("starting the simulator and the subscriber processes");
    sim = await launchSimulator(["--port", "0"]);
    const simPid = sim.pid;
    subscribers = startSubscriberProcesses(SUBSCRIBER_PROCESSES);
    const markets = await busiestKrwMarkets(sim.restUrl, MARKETS);
    // Connected before any gateway's upstream connection: the simulator serves it first in each
    // feed tick, so its stamps are if anything early and the added latency if anything high.
    reference = new ReferenceReceiver(sim.wsUrl);
    await reference.start(markets);
    const ctx = { sim, simPid, markets, reference, subscribers, log };
    const tickers = await runKind("ticker", ctx);
    const books = await runKind("orderbook", ctx);
    const points = [...tickers.points, ...books.points, ...(await runFloor(ctx))];
    const memory = [tickers.memory, books.memory];

    const target = tickers.points.find((p) => p.subscribers === TARGET_SUBSCRIBERS)!;
    const targets = [
      { name: `ticker added p99 ms at ${TARGET_SUBSCRIBERS} subscribers`, target: `< ${TARGET_P99_ADDED_MS}`, value: target.added.p99Ms, ok: target.added.p99Ms < TARGET_P99_ADDED_MS },
    ];
    const metrics = metricsOf(points, memory, targets[0]!.ok);
    const loadAtEnd = loadAverage();
    metrics.push({ name: "load average 1m (end vs start)", unit: "", value: loadAtEnd["1m"], baseline: loadAtStart["1m"] });
    return {
      benchmark: "streams",
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: machineInfo(),
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      params: {
        markets,
        marketChoice: `the ${MARKETS} KRW markets with the highest acc_trade_price_24h; every subscriber streams all of them`,
        subscriberProcesses: SUBSCRIBER_PROCESSES,
        streamsPerConnection: STREAMS_PER_CONNECTION,
        bookDepth: BOOK_DEPTH,
        warmupMs: WARMUP_MS,
        windowMs: WINDOW_MS,
        stallMs: STALL_MS,
        latency: "subscriber receive minus a direct WebSocket client's receive of the same upstream message (CLOCK_MONOTONIC, same machine)",
      },
      points,
      memory,
      targets,
      metrics,
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.stop()));
    await reference?.close();
    await sim?.stop();
  }
}
