/**
 * Bulk history through FetchCandleRange, as a backtester takes it: the simulator in its own
 * process, the gateway as `npm start` runs it (its own process, the daemon as its sidecar), a gRPC
 * client on loopback in this process. 10 KRW markets of 1,000,000 consecutive 1-minute candles
 * each are written through the daemon's WriteCandles with their coverage, so every fetch is warm
 * (zero upstream calls, checked on every answer and on the simulator's counters).
 *
 * The baseline is an in-process DuckDB scan of the same rows (the daemon's query, streamed into
 * typed arrays) from a copy of the daemon's database file: the daemon holds its own file locked,
 * and with a copy the scan and the gateway take turns seconds apart, so both halves of each pair
 * meet the same machine: on a shared host its speed swings within minutes, with a steal of 0 to
 * 90 % and also where no steal counter shows it. Each round starts the gateway, reads every market once through both
 * (warm-up), then measures:
 * 1. PAIRS pairs of (scan, FetchCandleRange) of 1,000,000 candles of one market, at the server's
 *    default batch size; the figure is the median of the pairs' ratios.
 * 2. PAIRS_10M pairs for 10 markets x 1,000,000 in one call. During the first fetch: the peak RSS
 *    of gateway and daemon (before, peak, after), CRITICAL GetTickers every 50 ms from a bot in a
 *    process of its own (ticker-bot.ts; against the same bot before any bulk work), and the
 *    gateway's event loop (GetStats before and after): the own-work blocks of 10 ms or more (the
 *    target: none), and the longest delay, which also counts waiting for a core, beside an idle
 *    Node process's over the same window.
 * 3. The same 1,000,000 candles paged with unary GetCandles (20,000 a page, the default cap)
 *    through the protobuf-es client, as a user would.
 *
 * The client decodes FetchCandleRange answers from their wire bytes into typed arrays
 * (candle-batch-decoder.ts) and checks every candle: contiguous times from the first written,
 * the count, and the sum of closes as written. CPU time per candle of gateway, daemon and client
 * (from /proc) says where the time goes whatever else the machine runs; the host's steal during
 * the measurements says how much else it ran.
 *
 * BULK_BENCH_NODE_OPTIONS, when set, is the gateway's (and so its daemon's) NODE_OPTIONS, e.g.
 * `--import /abs/path/to/a/profiler-preload.mjs` (Node 20 refuses --cpu-prof in NODE_OPTIONS).
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement } from "@duckdb/node-api";
import {
  type FetchCandleRangeRequest,
  type GatewayStats,
  FetchCandleRangeRequestSchema,
  MarketDataService,
  Priority,
  Source,
  Timeframe,
} from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService, type WriteCandlesRequestSchema } from "../src/gen/backbone/storage/v1/storage_pb.js";
import { allocateColumns } from "../src/shared/candle-columns.js";
import { columnsToWire } from "../src/shared/candle-columns-wire.js";
import { createGrpcClient, type GrpcClient } from "../src/shared/grpc/client.js";
import type { BusyBlockCount } from "../src/gateway/scheduler/event-loop-lag.js";
import { DATABASE_FILE, RANGE_SQL } from "../src/storage-daemon/duckdb-candle-store.js";
import { CHUNK_ROWS, copyCandleChunk } from "../src/storage-daemon/duckdb-vectors.js";
import { removeDir, tempDir } from "../test/support/daemon-process.js";
import { type DecodedCandleBatch, decodeFetchCandleRangeResponse } from "./candle-batch-decoder.js";
import { launchGatewayProcess } from "./gateway-process.js";
import type { ListeningProcess } from "./listening-process.js";
import { type LoopDelay, startIdleLoopProbe } from "./idle-loop-probe.js";
import { type Latency, latency, median } from "./latency-stats.js";
import { machineInfo, stealMeter } from "./machine-info.js";
import { childRunning, type RssPeak, watchPeakRss } from "./process-rss.js";
import { launchSimulator, type SimProcess } from "./sim-process.js";
import type { Metric } from "./storage.bench.js";
import { cpuMs, loadAverage } from "./process-cpu.js";
import { startTickerBot, type TickerBotReport } from "./ticker-bot.js";

const MINUTE = 60_000;
const DAY = 86_400_000;
const MARKETS = 10;
const PER_MARKET = 1_000_000;
/** The range ends on a whole day this long ago: long closed, after 2017. */
const END_DAYS_AGO = 30;
const WRITE_BATCH = 100_000;
const WRITES_IN_FLIGHT = 2;
const ROUNDS = 3;
/** Scan-then-fetch pairs of 1M per round. */
const PAIRS = 3;
/** 10M pairs per round: the first with the bot, RSS and event-loop readings, the rest plain. */
const PAIRS_10M = 2;
/** The gateway's default BACKBONE_MAX_CANDLES: the largest page one GetCandles answers. */
const PAGE = 20_000;
/** FetchCandleRange's batch_size 0: the server default. */
const DEFAULT_BATCH_SIZE = 10_000;
const RSS_SAMPLE_MS = 100;
const TICKER_INTERVAL_MS = 50;
const TICKERS_ALONE_MS = 3_000;
const RATE_LIMIT = 10;
const TARGET_SCAN_RATIO = 0.5;
const TARGET_PAGING_RATIO = 5;
const TARGET_BLOCK_MS = 10;

const DAEMON_SCRIPT = "storage-daemon/main";
const FETCH_PATH = `/${MarketDataService.typeName}/FetchCandleRange`;

/** What was written for one market, to check every answer against. */
interface Written {
  market: string;
  closeSum: number;
}

interface Cpu {
  gatewayMs: number;
  daemonMs: number;
  clientMs: number;
}

/** One scan and one fetch of the same rows, seconds apart; steal: the host's share meanwhile. */
interface Pair {
  scanPerS: number;
  fetchPerS: number;
  scanCpuMs: number;
  fetchCpu: Cpu;
  steal: { scan: number; fetch: number };
}

interface GatewayRound {
  pairs1: Pair[];
  pairs10: Pair[];
  paging: number;
  rss1: { gateway: RssPeak; daemon: RssPeak };
  rss10: { gateway: RssPeak; daemon: RssPeak };
  eventLoop: {
    /** Own-work blocks during the measured 10M fetch: GetStats after minus before. */
    busyBlocks10M: BusyBlockCount[];
    /** The longest delay since start, before and after the 10M fetch (running or waiting for a core). */
    delayMaxBeforeMs: number;
    delayMaxAfterMs: number;
    /** An idle Node process on the same machine during the 10M fetch: scheduling noise alone. */
    idleControl: LoopDelay;
    /** The longest own-work block since the gateway started, startup included. */
    busyMaxSinceStartMs: number;
  };
  databaseSizeBytes: number;
  tickers: { samples: number[]; alone: number[]; upstreamCalls: number };
  batches10: number;
  bytes10: number;
}

export interface BulkBenchResult {
  benchmark: "bulk";
  startedAt: string;
  durationS: number;
  machine: ReturnType<typeof machineInfo>;
  loadAverage: { start: ReturnType<typeof loadAverage>; end: ReturnType<typeof loadAverage> };
  params: {
    markets: string[];
    candlesPerMarket: number;
    startMs: number;
    endMs: number;
    batchSize: number;
    pageSize: number;
    rounds: number;
    pairsPerRound: number;
    pairs10MPerRound: number;
    writeBatch: number;
    tickerIntervalMs: number;
    tickersAloneMs: number;
    rssSampleMs: number;
  };
  ingest: { candles: number; seconds: number; candlesPerS: number };
  /** Medians; `ratio` is the median of the pairs' own ratios (`pairRatios`, every round's). */
  oneMarket: { fetchPerS: number; scanPerS: number; ratio: number; pairRatios: number[]; pagingPerS: number; pagingRatio: number };
  tenMarkets: { fetchPerS: number; scanPerS: number; ratio: number; pairRatios: number[]; batches: number; mbPerS: number };
  /** The host's share of the machine's CPU time (steal) during the measured scans and fetches, median. */
  steal: { scans: number; fetches: number };
  /** Per round: RSS before, peak (sampled and the kernel's VmHWM) and after each fetch, MiB. */
  memory: { gateway: { fetch1M: RssPeak[]; fetch10M: RssPeak[] }; daemon: { fetch1M: RssPeak[]; fetch10M: RssPeak[] } };
  eventLoop: {
    /** Own-work blocks during the measured 10M fetches, every round's added up, by length. */
    busyBlocks10M: BusyBlockCount[];
    /** Per round: the longest delay since start before and after the 10M fetch, and the idle process's. */
    delayMaxBeforeMs: number[];
    delayMaxAfterMs: number[];
    idleControlMaxMs: number[];
    busyMaxSinceStartMs: number[];
  };
  /** The DuckDB file: what the daemon's cache can grow towards when every row is read. */
  databaseSizeMiB: number;
  /** CRITICAL GetTickers during the 10M fetch; `alone`: the same calls before any bulk work. */
  critical: Latency & { calls: number; upstreamCalls: number; alone: Latency };
  /** CPU time per 1M fetch and scan, median over pairs, and per 10M, median over rounds: where the time goes. */
  cpu: { fetch1M: Cpu; fetch10M: Cpu; scan1MMs: number; scan10MMs: number };
  targets: { name: string; target: string; value: number; ok: boolean }[];
  metrics: Metric[];
}

// ---------------------------------------------------------------------------------------------
// Statistics

const medianCpu = (xs: readonly Cpu[]): Cpu => ({
  gatewayMs: median(xs.map((x) => x.gatewayMs)),
  daemonMs: median(xs.map((x) => x.daemonMs)),
  clientMs: median(xs.map((x) => x.clientMs)),
});

// ---------------------------------------------------------------------------------------------
// Data

/** Deterministic PRNG (mulberry32), so every run writes the same candles. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * WriteCandles requests of every market's random walk of valid 1-minute candles from `start`, in
 * batches of WRITE_BATCH, each verifying exactly its own span; fills `written` as it goes.
 */
function* writeRequests(markets: readonly string[], start: number, written: Written[]): Generator<MessageInitShape<typeof WriteCandlesRequestSchema>> {
  for (const [k, market] of markets.entries()) {
    const rand = prng(1_000 + k);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const w: Written = { market, closeSum: 0 };
    written.push(w);
    let price = 10_000 * (k + 1);
    for (let from = 0; from < PER_MARKET; from += WRITE_BATCH) {
      const n = Math.min(WRITE_BATCH, PER_MARKET - from);
      const c = allocateColumns(n);
      for (let i = 0; i < n; i++) {
        const open = price;
        const close = Math.max(1, Math.round(open * Math.exp(0.001 * gauss())));
        const volume = 0.05 + Math.exp(gauss());
        c.time[i] = BigInt(start + (from + i) * MINUTE);
        c.open[i] = open;
        c.close[i] = close;
        c.high[i] = Math.round(Math.max(open, close) * (1 + Math.abs(0.0005 * gauss())));
        c.low[i] = Math.round(Math.min(open, close) * (1 - Math.abs(0.0005 * gauss())));
        c.volume[i] = volume;
        c.quoteVolume[i] = (volume * (open + close)) / 2;
        // Summed in time order, as every reader below sums: the same doubles in the same order.
        w.closeSum += close;
        price = close;
      }
      const first = start + from * MINUTE;
      yield {
        segments: [{
          market,
          timeframe: Timeframe.MINUTE_1,
          candles: columnsToWire(c),
          verified: [{ startMs: BigInt(first), endMs: BigInt(first + n * MINUTE) }],
        }],
      };
    }
  }
}

async function ingest(store: GrpcClient<typeof StorageService>, markets: readonly string[], start: number): Promise<{ written: Written[]; ms: number }> {
  const written: Written[] = [];
  const requests = writeRequests(markets, start, written);
  let inserted = 0n;
  const t0 = performance.now();
  const writer = async () => {
    for (let next = requests.next(); !next.done; next = requests.next()) {
      // Awaited first: `inserted += await ...` would add to the value read before the await.
      const answer = await store.writeCandles(next.value);
      inserted += answer.inserted;
    }
  };
  await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
  const ms = performance.now() - t0;
  if (inserted !== BigInt(markets.length * PER_MARKET)) throw new Error(`the daemon inserted ${inserted} candles, expected ${markets.length * PER_MARKET}`);
  return { written, ms };
}

// ---------------------------------------------------------------------------------------------
// Checking answers

/**
 * Checks a stream of batches against what was written: markets in request order, each one's
 * candles contiguous from `start`, PER_MARKET of them, closes summing as written, its meta on its
 * last batch saying STORE, complete, zero upstream calls; the final progress complete.
 */
class RangeCheck {
  private index = -1;
  private next = 0;
  private count = 0;
  private sum = 0;
  private metaSeen = false;
  private lastProgress: DecodedCandleBatch["progress"];

  constructor(
    private readonly expected: readonly Written[],
    private readonly start: number,
  ) {}

  add(b: DecodedCandleBatch): void {
    if (this.index < 0 || b.market !== this.expected[this.index]!.market) {
      if (this.index >= 0) this.finishMarket();
      this.index++;
      const want = this.expected[this.index];
      if (want === undefined || b.market !== want.market) throw new Error(`batch of ${b.market}, expected ${want?.market ?? "no more markets"}`);
      this.next = this.start;
      this.count = 0;
      this.sum = 0;
      this.metaSeen = false;
    }
    if (this.metaSeen) throw new Error(`${b.market}: a batch after the market's meta`);
    const { time, close } = b;
    let next = this.next;
    let sum = this.sum;
    for (let i = 0; i < time.length; i++) {
      if (time[i] !== next) throw new Error(`${b.market}: candle at ${time[i]}, expected ${next}`);
      next += MINUTE;
      sum += close[i]!;
    }
    this.next = next;
    this.sum = sum;
    this.count += time.length;
    this.lastProgress = b.progress;
    if (b.meta !== undefined) {
      this.metaSeen = true;
      const m = b.meta;
      if (m.upstreamCalls !== 0 || m.source !== Source.STORE || !m.complete || m.gaps.length > 0) {
        throw new Error(`${b.market}: meta says source ${Source[m.source]}, ${m.upstreamCalls} upstream calls, complete ${m.complete}, ${m.gaps.length} gaps`);
      }
    }
  }

  finish(): void {
    this.finishMarket();
    if (this.index !== this.expected.length - 1) throw new Error(`answer held ${this.index + 1} markets, expected ${this.expected.length}`);
    const p = this.lastProgress;
    const total = this.expected.length * PER_MARKET;
    if (p === undefined || p.bucketsDone !== total || p.bucketsTotal !== total || p.marketsDone !== this.expected.length || p.marketsTotal !== this.expected.length) {
      throw new Error(`final progress ${JSON.stringify(p)}, expected ${total} buckets and ${this.expected.length} markets done`);
    }
  }

  private finishMarket(): void {
    const want = this.expected[this.index]!;
    if (this.count !== PER_MARKET || this.sum !== want.closeSum || !this.metaSeen) {
      throw new Error(`${want.market}: ${this.count} candles, closes summing to ${this.sum} (written ${want.closeSum}), meta ${this.metaSeen ? "seen" : "missing"}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// In-process baseline

interface InProcessStore {
  query: DuckDBPreparedStatement;
  seriesOf: Map<string, number>;
  close(): void;
}

/** The daemon's database file, read-only, with the daemon's range query prepared. */
async function openInProcess(dataDir: string): Promise<InProcessStore> {
  const instance = await DuckDBInstance.create(join(dataDir, DATABASE_FILE), { access_mode: "READ_ONLY" });
  let conn: DuckDBConnection | undefined;
  try {
    conn = await instance.connect();
    const rows = (await conn.runAndReadAll("SELECT market, id FROM series WHERE timeframe = '1m'")).getRows();
    const seriesOf = new Map(rows.map(([market, id]) => [String(market), Number(id)]));
    const query = await conn.prepare(RANGE_SQL);
    const c = conn;
    return {
      query,
      seriesOf,
      close: () => {
        query.destroySync();
        c.closeSync();
        instance.closeSync();
      },
    };
  } catch (e) {
    conn?.closeSync();
    instance.closeSync();
    throw e;
  }
}

/** Each market's range, streamed chunk by chunk into one reused set of columns, closes summed and checked. */
async function scanInProcess(store: InProcessStore, expected: readonly Written[], start: number): Promise<number> {
  const t0 = performance.now();
  const out = allocateColumns(CHUNK_ROWS);
  for (const w of expected) {
    const series = store.seriesOf.get(w.market);
    if (series === undefined) throw new Error(`the database holds no 1m series of ${w.market}`);
    store.query.bindInteger(1, series);
    store.query.bindBigInt(2, BigInt(start));
    store.query.bindBigInt(3, BigInt(start + PER_MARKET * MINUTE));
    const result = await store.query.stream();
    let rows = 0;
    let sum = 0;
    let first: bigint | undefined;
    let last: bigint | undefined;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      copyCandleChunk(chunk, 0, n, out, 0);
      for (let i = 0; i < n; i++) sum += out.close[i]!;
      first ??= out.time[0];
      last = out.time[n - 1];
      rows += n;
    }
    if (rows !== PER_MARKET || sum !== w.closeSum || Number(first) !== start || Number(last) !== start + (PER_MARKET - 1) * MINUTE) {
      throw new Error(`in-process scan of ${w.market}: ${rows} rows from ${first} to ${last}, closes summing to ${sum} (written ${w.closeSum})`);
    }
  }
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// Gateway

/** A FetchCandleRange client that decodes answers with candle-batch-decoder.ts instead of protobuf-es reflection. */
function rangeClient(address: string): { fetch(req: MessageInitShape<typeof FetchCandleRangeRequestSchema>): AsyncIterable<DecodedCandleBatch>; bytes: number; close(): void } {
  // The channel options of the repo's own client (createGrpcClient), on a connection of its own.
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
    "grpc.use_local_subchannel_pool": 1,
  });
  const self = {
    bytes: 0,
    fetch: (req: MessageInitShape<typeof FetchCandleRangeRequestSchema>) =>
      client.makeServerStreamRequest(
        FETCH_PATH,
        (r: FetchCandleRangeRequest) => Buffer.from(toBinary(FetchCandleRangeRequestSchema, r)),
        (b: Buffer) => {
          self.bytes += b.length;
          return decodeFetchCandleRangeResponse(b);
        },
        create(FetchCandleRangeRequestSchema, req),
        new Metadata(),
        {},
      ) as AsyncIterable<DecodedCandleBatch>,
    close: () => client.close(),
  };
  return self;
}

interface Pids {
  gateway: number;
  daemon: number;
}

function cpuNow(pids: Pids): Cpu {
  const own = process.cpuUsage();
  return { gatewayMs: cpuMs(pids.gateway), daemonMs: cpuMs(pids.daemon), clientMs: (own.user + own.system) / 1000 };
}
const cpuSince = (pids: Pids, before: Cpu): Cpu => {
  const now = cpuNow(pids);
  return { gatewayMs: now.gatewayMs - before.gatewayMs, daemonMs: now.daemonMs - before.daemonMs, clientMs: now.clientMs - before.clientMs };
};

/** One FetchCandleRange call of `markets`, every batch checked; returns ms, CPU, RSS and batches. */
async function fetchChecked(
  range: ReturnType<typeof rangeClient>,
  pids: Pids,
  expected: readonly Written[],
  start: number,
): Promise<{ ms: number; cpu: Cpu; rss: { gateway: RssPeak; daemon: RssPeak }; batches: number; bytes: number }> {
  const check = new RangeCheck(expected, start);
  const bytes0 = range.bytes;
  const stopRss = watchPeakRss([pids.gateway, pids.daemon], RSS_SAMPLE_MS);
  const cpu0 = cpuNow(pids);
  const t0 = performance.now();
  let batches = 0;
  const req = { markets: expected.map((w) => w.market), timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(start + PER_MARKET * MINUTE), priority: Priority.LOW };
  let rss: RssPeak[];
  try {
    for await (const b of range.fetch(req)) {
      check.add(b);
      batches++;
    }
  } finally {
    rss = stopRss();
  }
  const ms = performance.now() - t0;
  const cpu = cpuSince(pids, cpu0);
  const [gateway, daemon] = rss;
  check.finish();
  return { ms, cpu, rss: { gateway: gateway!, daemon: daemon! }, batches, bytes: range.bytes - bytes0 };
}

/** The same range as GetCandles pages of PAGE, through the protobuf-es client; every page checked. */
async function page(client: GrpcClient<typeof MarketDataService>, w: Written, start: number): Promise<number> {
  const t0 = performance.now();
  let sum = 0;
  let next = start;
  const end = start + PER_MARKET * MINUTE;
  for (let from = start; from < end; from += PAGE * MINUTE) {
    const to = Math.min(end, from + PAGE * MINUTE);
    const answer = await client.getCandles({ market: w.market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(from), endMs: BigInt(to), priority: Priority.LOW });
    if (answer.meta?.upstreamCalls !== 0 || !answer.meta.complete) throw new Error(`GetCandles page from ${from}: ${answer.meta?.upstreamCalls} upstream calls, complete ${answer.meta?.complete}`);
    for (const c of answer.candles) {
      if (Number(c.timeMs) !== next) throw new Error(`GetCandles page from ${from}: candle at ${c.timeMs}, expected ${next}`);
      next += MINUTE;
      sum += c.close;
    }
  }
  if (next !== end || sum !== w.closeSum) throw new Error(`GetCandles paging of ${w.market} ended at ${next} (expected ${end}), closes summing to ${sum} (written ${w.closeSum})`);
  return performance.now() - t0;
}


async function launchGateway(sim: SimProcess, dataDir: string): Promise<ListeningProcess> {
  const nodeOptions = process.env.BULK_BENCH_NODE_OPTIONS;
  return launchGatewayProcess({
    BACKBONE_LISTEN: "127.0.0.1:0",
    BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
    BACKBONE_DATA_DIR: dataDir,
    UPBIT_REST_URL: sim.restUrl,
    UPBIT_WS_URL: sim.wsUrl,
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  });
}

async function stopGateway(gateway: ListeningProcess): Promise<void> {
  const code = await gateway.stop();
  if (code !== 0) throw new Error(`gateway exited with ${code}`);
}

/** `f` timed, with the host's steal over it. */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; steal: number }> {
  const steal = stealMeter();
  const value = await f();
  return { value, steal: steal() };
}

type Fetched = Awaited<ReturnType<typeof fetchChecked>>;

/** The in-process scan of `markets`: ms, the host's steal, and this process's CPU time (DuckDB's threads included). */
async function scanMeasured(baseline: InProcessStore, markets: readonly Written[], start: number): Promise<{ value: number; steal: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const scan = await measured(() => scanInProcess(baseline, markets, start));
  const cpu = process.cpuUsage(cpu0);
  return { ...scan, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function pairOf(candles: number, scan: Awaited<ReturnType<typeof scanMeasured>>, fetch: { value: Fetched; steal: number }): Pair {
  return {
    scanPerS: candles / (scan.value / 1000),
    fetchPerS: candles / (fetch.value.ms / 1000),
    scanCpuMs: scan.cpuMs,
    fetchCpu: fetch.value.cpu,
    steal: { scan: scan.steal, fetch: fetch.steal },
  };
}

const blocksAdded = (before: GatewayStats, after: GatewayStats): BusyBlockCount[] =>
  after.eventLoopBusyBlocks.map((b, i) => ({ atLeastMs: b.atLeastMs, count: Number(b.count - (before.eventLoopBusyBlocks[i]?.count ?? 0n)) }));

/**
 * One gateway round: start, warm up both sides, measure the 1M pairs, the 10M pair (with RSS,
 * CRITICAL calls and the event loop) and paging, stop.
 */
async function gatewayRound(sim: SimProcess, dataDir: string, baseline: InProcessStore, written: readonly Written[], start: number, log: (msg: string) => void): Promise<GatewayRound> {
  const gateway = await launchGateway(sim, dataDir);
  const address = String(gateway.listening.address);
  const client = createGrpcClient(MarketDataService, address);
  const range = rangeClient(address);
  try {
    const pids = { gateway: gateway.pid, daemon: childRunning(gateway.pid, DAEMON_SCRIPT) };
    const one = written.slice(0, 1);
    const tickerMarket = one[0]!.market;
    await client.listMarkets({});
    // The bot's calls with nothing else running, for comparison.
    const stopAlone = await startTickerBot(address, tickerMarket, TICKER_INTERVAL_MS);
    await delay(TICKERS_ALONE_MS);
    const tickersAlone = await stopAlone();

    log("  warm-up: every market scanned in process and fetched through the gateway");
    await scanInProcess(baseline, written, start);
    await fetchChecked(range, pids, written, start);

    log(`  ${PAIRS} pairs of 1M, 1 market: in-process scan, then FetchCandleRange`);
    const pairs1: Pair[] = [];
    const rss1: { gateway: RssPeak; daemon: RssPeak }[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const scan = await scanMeasured(baseline, one, start);
      const fetch = await measured(() => fetchChecked(range, pids, one, start));
      pairs1.push(pairOf(PER_MARKET, scan, fetch));
      rss1.push(fetch.value.rss);
    }

    log(`  ${PAIRS_10M} pairs of 10 markets x 1M: in-process scan, then FetchCandleRange (the first with CRITICAL GetTickers every ${TICKER_INTERVAL_MS} ms alongside)`);
    const scan10 = await scanMeasured(baseline, written, start);
    const beforeBulk = (await client.getStats({})).gateway!;
    const stopBot = await startTickerBot(address, tickerMarket, TICKER_INTERVAL_MS);
    const stopProbe = await startIdleLoopProbe();
    let idleControl: LoopDelay | undefined;
    let tickers: TickerBotReport;
    let f10: { value: Fetched; steal: number };
    try {
      f10 = await measured(() => fetchChecked(range, pids, written, start));
    } finally {
      idleControl = await stopProbe();
      tickers = await stopBot();
    }
    const stats = await client.getStats({});
    const afterBulk = stats.gateway!;
    const pairs10 = [pairOf(written.length * PER_MARKET, scan10, f10)];
    for (let i = 1; i < PAIRS_10M; i++) {
      const scan = await scanMeasured(baseline, written, start);
      pairs10.push(pairOf(written.length * PER_MARKET, scan, await measured(() => fetchChecked(range, pids, written, start))));
    }

    log("  GetCandles paging 1M, 1 market");
    const pagingMs = await page(client, one[0]!, start);
    // The market list and tickers may go upstream; candles never.
    const candleCalls = (await sim.traffic()).candles?.requests ?? 0;
    if (candleCalls !== 0) throw new Error(`the simulator answered ${candleCalls} candle requests: a fetch was not warm`);
    return {
      pairs1,
      pairs10,
      paging: PER_MARKET / (pagingMs / 1000),
      rss1: rss1[rss1.length - 1]!,
      rss10: f10.value.rss,
      eventLoop: {
        busyBlocks10M: blocksAdded(beforeBulk, afterBulk),
        delayMaxBeforeMs: beforeBulk.eventLoopDelayMaxMs,
        delayMaxAfterMs: afterBulk.eventLoopDelayMaxMs,
        idleControl,
        busyMaxSinceStartMs: afterBulk.eventLoopBusyMaxMs,
      },
      databaseSizeBytes: Number(stats.store?.databaseSizeBytes ?? 0),
      tickers: { samples: tickers.samples, alone: tickersAlone.samples, upstreamCalls: tickers.upstreamCalls + tickersAlone.upstreamCalls },
      batches10: f10.value.batches,
      bytes10: f10.value.bytes,
    };
  } finally {
    range.close();
    client.close();
    await stopGateway(gateway);
  }
}

/** Blocks counted at each length, added up over rounds. */
function sumBlocks(rounds: readonly BusyBlockCount[][]): BusyBlockCount[] {
  return rounds[0]!.map((b, i) => ({ atLeastMs: b.atLeastMs, count: rounds.reduce((n, r) => n + r[i]!.count, 0) }));
}

/** "none", or the range the longest counted block lies in, e.g. "10-20 ms". */
function longestBlock(blocks: readonly BusyBlockCount[]): string {
  const i = blocks.findLastIndex((b) => b.count > 0);
  if (i < 0) return `none of ${blocks[0]?.atLeastMs ?? 0} ms or more`;
  const next = blocks[i + 1];
  return next === undefined ? `${blocks[i]!.atLeastMs} ms or more` : `${blocks[i]!.atLeastMs}-${next.atLeastMs} ms`;
}

// ---------------------------------------------------------------------------------------------

export async function runBulkBench(log: (msg: string) => void = () => undefined): Promise<BulkBenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadStart = loadAverage();
  const end = Math.floor(Date.now() / DAY) * DAY - END_DAYS_AGO * DAY;
  const start = end - PER_MARKET * MINUTE;
  const dataDir = tempDir("mdb-bench-bulk-");
  const baselineDir = tempDir("mdb-bench-bulk-baseline-");
  let sim: SimProcess | undefined;
  let baseline: InProcessStore | undefined;
  try {
    log("starting simulator, daemon and gateway");
    sim = await launchSimulator(["--port", "0", "--rate-limit", String(RATE_LIMIT)]);

    // Data: written once through the daemon, then the gateway stops (its daemon checkpoints).
    let written: Written[];
    let markets: string[];
    let ingestMs: number;
    {
      const gateway = await launchGateway(sim, dataDir);
      const client = createGrpcClient(MarketDataService, String(gateway.listening.address));
      const store = createGrpcClient(StorageService, String(gateway.listening.storageAddress));
      try {
        markets = (await client.listMarkets({ quoteCurrencies: ["KRW"] })).markets.map((m) => m.market).slice(0, MARKETS);
        if (markets.length !== MARKETS) throw new Error(`the simulator lists only ${markets.length} KRW markets`);
        log(`writing ${MARKETS} x ${PER_MARKET} 1-minute candles through WriteCandles (${markets.join(", ")})`);
        ({ written, ms: ingestMs } = await ingest(store, markets, start));
        log(`  ${((MARKETS * PER_MARKET) / (ingestMs / 1000) / 1e6).toFixed(2)}M candles/s`);
      } finally {
        store.close();
        client.close();
        await stopGateway(gateway);
      }
      await sim.reset();
    }
    copyFileSync(join(dataDir, DATABASE_FILE), join(baselineDir, DATABASE_FILE));
    baseline = await openInProcess(baselineDir);

    const rounds: GatewayRound[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}`);
      const g = await gatewayRound(sim, dataDir, baseline, written, start, log);
      rounds.push(g);
      const perS = (x: number) => `${(x / 1e6).toFixed(2)}M/s`;
      log(
        `  1M pairs (scan / fetch): ${g.pairs1.map((p) => `${perS(p.scanPerS)} / ${perS(p.fetchPerS)}`).join(", ")}; ` +
          `10M: ${g.pairs10.map((p) => `${perS(p.scanPerS)} / ${perS(p.fetchPerS)}`).join(", ")}; paging ${perS(g.paging)}; ` +
          `host steal during the first 10M fetch ${(100 * g.pairs10[0]!.steal.fetch).toFixed(0)} %; ` +
          `own-work blocks >= 10 ms during it (the first): ${g.eventLoop.busyBlocks10M.find((b) => b.atLeastMs === TARGET_BLOCK_MS)?.count}`,
      );
    }

    const pairs1 = rounds.flatMap((g) => g.pairs1);
    const pairs10 = rounds.flatMap((g) => g.pairs10);
    const ratios = (ps: readonly Pair[]) => ps.map((p) => p.fetchPerS / p.scanPerS);
    const scan1 = median(pairs1.map((p) => p.scanPerS));
    const fetch1 = median(pairs1.map((p) => p.fetchPerS));
    const scan10 = median(pairs10.map((p) => p.scanPerS));
    const fetch10 = median(pairs10.map((p) => p.fetchPerS));
    const paging = median(rounds.map((g) => g.paging));
    const ratio1 = median(ratios(pairs1));
    const ratio10 = median(ratios(pairs10));
    const pagingRatio = fetch1 / paging;
    const blocks = sumBlocks(rounds.map((g) => g.eventLoop.busyBlocks10M));
    const blocksAtTarget = blocks.find((b) => b.atLeastMs === TARGET_BLOCK_MS)?.count ?? NaN;
    const blocksAt5 = blocks[0]?.count ?? NaN;
    const allPairs = [...pairs1, ...pairs10];
    const steal = { scans: median(allPairs.map((p) => p.steal.scan)), fetches: median(allPairs.map((p) => p.steal.fetch)) };
    const peak = (rss: RssPeak[]) => Math.max(...rss.map((x) => x.peakMiB));
    const before = (rss: RssPeak[]) => median(rss.map((x) => x.beforeMiB));
    const memory = {
      gateway: { fetch1M: rounds.map((g) => g.rss1.gateway), fetch10M: rounds.map((g) => g.rss10.gateway) },
      daemon: { fetch1M: rounds.map((g) => g.rss1.daemon), fetch10M: rounds.map((g) => g.rss10.daemon) },
    };
    const critical = {
      ...latency(rounds.flatMap((g) => g.tickers.samples)),
      calls: rounds.reduce((n, g) => n + g.tickers.samples.length, 0),
      upstreamCalls: rounds.reduce((n, g) => n + g.tickers.upstreamCalls, 0),
      alone: latency(rounds.flatMap((g) => g.tickers.alone)),
    };
    const cpu1 = medianCpu(pairs1.map((p) => p.fetchCpu));
    const scanCpu1 = median(pairs1.map((p) => p.scanCpuMs));
    const tenSeconds = (MARKETS * PER_MARKET) / fetch10;
    const mbPerS = median(rounds.map((g) => g.bytes10)) / 1e6 / tenSeconds;
    const delayMax = Math.max(...rounds.map((g) => g.eventLoop.delayMaxAfterMs));
    const idleMax = Math.max(...rounds.map((g) => g.eventLoop.idleControl.maxMs));

    const targets = [
      { name: "FetchCandleRange 1M / in-process scan", target: `>= ${TARGET_SCAN_RATIO}`, value: ratio1, ok: ratio1 >= TARGET_SCAN_RATIO },
      { name: "FetchCandleRange 10M / in-process scan", target: `>= ${TARGET_SCAN_RATIO}`, value: ratio10, ok: ratio10 >= TARGET_SCAN_RATIO },
      { name: "FetchCandleRange 1M / GetCandles paging", target: `>= ${TARGET_PAGING_RATIO}`, value: pagingRatio, ok: pagingRatio >= TARGET_PAGING_RATIO },
      { name: `gateway own-work event-loop blocks >= ${TARGET_BLOCK_MS} ms during the 10M fetches`, target: "0", value: blocksAtTarget, ok: blocksAtTarget === 0 },
    ];
    const cpuRow = (who: string, ms: number): Metric => ({ name: `CPU us/candle, 1M fetch: ${who} (vs in-process)`, unit: "", value: ms / (PER_MARKET / 1000), baseline: scanCpu1 / (PER_MARKET / 1000), ratio: ms / scanCpu1 });
    const metrics: Metric[] = [
      { name: "FetchCandleRange 1M, 1 market (vs in-process; ratio: median of pairs)", unit: "rows/s", value: fetch1, baseline: scan1, ratio: ratio1, target: `ratio >= ${TARGET_SCAN_RATIO}`, ok: targets[0]!.ok },
      { name: "FetchCandleRange 10M, 10 markets (vs in-process; ratio: median of pairs)", unit: "rows/s", value: fetch10, baseline: scan10, ratio: ratio10, target: `ratio >= ${TARGET_SCAN_RATIO}`, ok: targets[1]!.ok },
      { name: "FetchCandleRange 1M vs GetCandles pages of 20k", unit: "rows/s", value: fetch1, baseline: paging, ratio: pagingRatio, target: `ratio >= ${TARGET_PAGING_RATIO}`, ok: targets[2]!.ok },
      { name: "host steal during fetches (vs during scans), %", unit: "", value: 100 * steal.fetches, baseline: 100 * steal.scans },
      { name: "gateway RSS MiB, 10M fetch: peak (vs before)", unit: "MiB", value: peak(memory.gateway.fetch10M), baseline: before(memory.gateway.fetch10M) },
      { name: "daemon RSS MiB, 10M fetch: peak (vs before)", unit: "MiB", value: peak(memory.daemon.fetch10M), baseline: before(memory.daemon.fetch10M) },
      { name: "gateway RSS MiB, 1M fetch: peak (vs before)", unit: "MiB", value: peak(memory.gateway.fetch1M), baseline: before(memory.gateway.fetch1M) },
      { name: "daemon RSS MiB, 1M fetch: peak (vs before)", unit: "MiB", value: peak(memory.daemon.fetch1M), baseline: before(memory.daemon.fetch1M) },
      { name: `gateway own-work blocks >= ${TARGET_BLOCK_MS} ms, 10M fetches (longest: ${longestBlock(blocks)})`, unit: "count", value: blocksAtTarget, target: "0", ok: targets[3]!.ok },
      { name: `gateway own-work blocks >= ${blocks[0]?.atLeastMs} ms, 10M fetches`, unit: "count", value: blocksAt5 },
      { name: "gateway event-loop max delay since start, after the 10M fetches (vs idle process)", unit: "ms", value: delayMax, baseline: idleMax },
      cpuRow("gateway", cpu1.gatewayMs),
      cpuRow("daemon", cpu1.daemonMs),
      cpuRow("client", cpu1.clientMs),
      { name: "CRITICAL GetTickers p50 (10M fetch vs alone)", unit: "ms", value: critical.p50Ms, baseline: critical.alone.p50Ms, ratio: critical.p50Ms / critical.alone.p50Ms },
      { name: "CRITICAL GetTickers p99 (10M fetch vs alone)", unit: "ms", value: critical.p99Ms, baseline: critical.alone.p99Ms, ratio: critical.p99Ms / critical.alone.p99Ms },
    ];

    return {
      benchmark: "bulk",
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: machineInfo(),
      loadAverage: { start: loadStart, end: loadAverage() },
      params: {
        markets,
        candlesPerMarket: PER_MARKET,
        startMs: start,
        endMs: end,
        batchSize: DEFAULT_BATCH_SIZE,
        pageSize: PAGE,
        rounds: ROUNDS,
        pairsPerRound: PAIRS,
        pairs10MPerRound: PAIRS_10M,
        writeBatch: WRITE_BATCH,
        tickerIntervalMs: TICKER_INTERVAL_MS,
        tickersAloneMs: TICKERS_ALONE_MS,
        rssSampleMs: RSS_SAMPLE_MS,
      },
      ingest: { candles: MARKETS * PER_MARKET, seconds: ingestMs / 1000, candlesPerS: (MARKETS * PER_MARKET) / (ingestMs / 1000) },
      oneMarket: { fetchPerS: fetch1, scanPerS: scan1, ratio: ratio1, pairRatios: ratios(pairs1), pagingPerS: paging, pagingRatio },
      tenMarkets: { fetchPerS: fetch10, scanPerS: scan10, ratio: ratio10, pairRatios: ratios(pairs10), batches: rounds[0]!.batches10, mbPerS },
      steal,
      memory,
      eventLoop: {
        busyBlocks10M: blocks,
        delayMaxBeforeMs: rounds.map((g) => g.eventLoop.delayMaxBeforeMs),
        delayMaxAfterMs: rounds.map((g) => g.eventLoop.delayMaxAfterMs),
        idleControlMaxMs: rounds.map((g) => g.eventLoop.idleControl.maxMs),
        busyMaxSinceStartMs: rounds.map((g) => g.eventLoop.busyMaxSinceStartMs),
      },
      databaseSizeMiB: Math.max(...rounds.map((g) => g.databaseSizeBytes)) / 2 ** 20,
      critical,
      cpu: {
        fetch1M: cpu1,
        fetch10M: medianCpu(pairs10.map((p) => p.fetchCpu)),
        scan1MMs: scanCpu1,
        scan10MMs: median(pairs10.map((p) => p.scanCpuMs)),
      },
      targets,
      metrics,
    };
  } finally {
    try {
      baseline?.close();
      await sim?.stop();
    } finally {
      removeDir(dataDir);
      removeDir(baselineDir);
    }
  }
}
