import type { MessageInitShape } from "@bufbuild/protobuf";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement } from "@duckdb/node-api";
import { Timeframe } from "../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService, type WriteCandlesRequestSchema } from "../src/gen/backbone/storage/v1/storage_pb.js";
import { allocateColumns, type CandleColumns, sliceColumns } from "../src/shared/candle-columns.js";
import { columnsFromWire, columnsToWire } from "../src/shared/candle-columns-wire.js";
import { createGrpcClient, type GrpcClient } from "../src/shared/grpc/client.js";
import { SERVER_NODE_FLAGS } from "../src/shared/server-node-flags.js";
import { appendCandles, CHUNK_ROWS, copyCandleChunk } from "../src/storage-daemon/duckdb-vectors.js";
import { RANGE_SQL } from "../src/storage-daemon/duckdb-candle-store.js";
import { migrate } from "../src/storage-daemon/migrations.js";
import { type Latency, latency, median, quantile } from "./latency-stats.js";
import { machineInfo } from "./machine-info.js";

const ROWS = 1_000_000;
const WRITE_BATCH = 100_000;
/** Writes in flight at once: a bulk writer (the gateway's parallel fetches) does not wait for each commit. */
const WRITES_IN_FLIGHT = 2;
const LATEST_N = 1_000;
const LATEST_CALLS = 500;
const LATEST_WARMUP = 50;
const REPEATS = 3;
const MINUTE = 60_000;
const MARKET = "KRW-BTC";
const SERIES_ID = 1;
const MAIN = new URL("../src/storage-daemon/main.ts", import.meta.url).pathname;

const LATEST_SQL = `SELECT ts, open, high, low, close, volume, quote_volume FROM candles
  WHERE series = $1 AND ts >= $2 AND ts < $3 ORDER BY ts DESC LIMIT ${LATEST_N}`;

/** One line of the table; `ok` is undefined for metrics without a target. */
export interface Metric {
  name: string;
  unit: string;
  value: number;
  baseline?: number;
  ratio?: number;
  target?: string;
  ok?: boolean;
}


export interface StorageBenchResult {
  benchmark: "storage";
  startedAt: string;
  durationS: number;
  machine: ReturnType<typeof machineInfo>;
  params: { rows: number; writeBatch: number; writesInFlight: number; latestN: number; latestCalls: number; latestWarmup: number; repeats: number };
  ingest: {
    baselineRowsPerS: number;
    daemonRowsPerS: number;
    ratio: number;
    /** WriteCandles latency per write batch over all runs. */
    daemonBatchMs: { p50: number; max: number };
    runs: { baseline: number[]; daemon: number[] };
  };
  rangeRead: { baselineRowsPerS: number; daemonRowsPerS: number; ratio: number; daemonMessages: number; runs: { baseline: number[]; daemon: number[] } };
  /** The latest 1,000 candles (ending after the newest one): the bot case, served from memory. */
  latest: { daemon: Latency; baseline: Latency; runs: { daemon: Latency[]; baseline: Latency[] } };
  /** 1,000 candles before random ends in history: a DuckDB query each. */
  beforeRandomEnd: { daemon: Latency; baseline: Latency; runs: { daemon: Latency[]; baseline: Latency[] } };
  targets: { name: string; target: string; value: number; ok: boolean }[];
  metrics: Metric[];
}

// ---------------------------------------------------------------------------------------------
// Data

/** Deterministic PRNG (mulberry32), so every run measures the same candles and queries. */
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

/** A random walk of 1-minute KRW-BTC-like candles, every minute traded, ending a week ago. */
function generateCandles(n: number): CandleColumns {
  const rand = prng(42);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const end = Math.floor(Date.now() / MINUTE) * MINUTE - 7 * 86_400_000;
  const start = end - n * MINUTE;
  const c = allocateColumns(n);
  let price = 50_000_000;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.max(1_000, Math.round(open * Math.exp(0.0008 * gauss())));
    const high = Math.max(open, close) * (1 + Math.abs(0.0004 * gauss()));
    const low = Math.min(open, close) * (1 - Math.abs(0.0004 * gauss()));
    const volume = 0.05 + Math.exp(gauss()) * 0.8;
    c.time[i] = BigInt(start + i * MINUTE);
    c.open[i] = open;
    c.high[i] = Math.round(high);
    c.low[i] = Math.round(low);
    c.close[i] = close;
    c.volume[i] = volume;
    c.quoteVolume[i] = volume * (open + close) / 2;
    price = close;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Statistics

function medianLatency(runs: readonly Latency[]): Latency {
  return {
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs: median(runs.map((r) => r.maxMs)),
  };
}

// ---------------------------------------------------------------------------------------------
// In-process baseline

async function baselineIngest(conn: DuckDBConnection, c: CandleColumns): Promise<number> {
  const t0 = performance.now();
  await conn.run("BEGIN TRANSACTION");
  const appender = await conn.createAppender("candles");
  try {
    appendCandles(appender, SERIES_ID, c);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await conn.run("COMMIT");
  return performance.now() - t0;
}

/**
 * Runs a prepared candle query (the daemon prepares its range query too) and copies every chunk
 * into CandleColumns: into one buffer of `keep` rows when the rows are kept (latest N), else into
 * one reused chunk-sized buffer, as a streaming consumer would. Returns the rows and the sum of closes.
 */
async function baselineQuery(query: DuckDBPreparedStatement, start: number, end: number, keep = 0): Promise<{ rows: number; sum: number }> {
  query.bind([SERIES_ID, BigInt(start), BigInt(end)]);
  const result = await query.stream();
  const out = allocateColumns(keep || CHUNK_ROWS);
  let rows = 0;
  let sum = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const at = keep ? rows : 0;
    copyCandleChunk(chunk, 0, chunk.rowCount, out, at);
    for (let i = at; i < at + chunk.rowCount; i++) sum += out.close[i]!;
    rows += chunk.rowCount;
  }
  return { rows, sum };
}

// ---------------------------------------------------------------------------------------------
// Daemon process

interface Daemon {
  client: GrpcClient<typeof StorageService>;
  stop(): Promise<void>;
}

async function startDaemon(dataDir: string): Promise<Daemon> {
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", MAIN, "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    env: { ...process.env, BACKBONE_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await exited;
    clearTimeout(kill);
    if (code !== 0) throw new Error(`storage daemon exited with ${code}:\n${stderr}`);
  };
  let address: string;
  try {
    address = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => {
        try {
          const event = JSON.parse(line) as { event?: string; address?: string };
          if (event.event === "listening" && event.address) resolve(event.address);
        } catch {
          // not our line
        }
      });
      child.on("error", reject);
      void exited.then((code) => reject(new Error(`storage daemon exited (${code}) before listening:\n${stderr}`)));
    });
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  const client = createGrpcClient(StorageService, address);
  return {
    client,
    stop: async () => {
      client.close();
      await stop();
    },
  };
}

async function daemonIngest(client: GrpcClient<typeof StorageService>, c: CandleColumns): Promise<{ ms: number; batchMs: number[] }> {
  const requests: MessageInitShape<typeof WriteCandlesRequestSchema>[] = [];
  for (let from = 0; from < ROWS; from += WRITE_BATCH) {
    const batch = sliceColumns(c, from, Math.min(ROWS, from + WRITE_BATCH));
    const first = batch.time[0]!;
    const last = batch.time[batch.time.length - 1]!;
    requests.push({
      segments: [{
        market: MARKET,
        timeframe: Timeframe.MINUTE_1,
        candles: columnsToWire(batch),
        verified: [{ startMs: first, endMs: last + BigInt(MINUTE) }],
      }],
    });
  }
  const batchMs: number[] = [];
  const t0 = performance.now();
  let inserted = 0n;
  let next = 0;
  const writer = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      const b0 = performance.now();
      const written = await client.writeCandles(req);
      inserted += written.inserted;
      batchMs.push(performance.now() - b0);
    }
  };
  await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
  const ms = performance.now() - t0;
  if (inserted !== BigInt(ROWS)) throw new Error(`daemon inserted ${inserted} candles, expected ${ROWS}`);
  return { ms, batchMs };
}

async function daemonRead(
  client: GrpcClient<typeof StorageService>,
  start: number,
  end: number,
  lastN = 0,
): Promise<{ rows: number; sum: number; messages: number }> {
  let rows = 0;
  let sum = 0;
  let messages = 0;
  const stream = client.readCandles({ market: MARKET, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), lastN });
  for await (const m of stream) {
    const c = columnsFromWire(m.candles, "candles");
    for (let i = 0; i < c.close.length; i++) sum += c.close[i]!;
    rows += c.time.length;
    messages++;
  }
  return { rows, sum, messages };
}

/** The latest `count` candles before `end` through the unary GetLatestCandles, decoded. */
async function daemonLatest(client: GrpcClient<typeof StorageService>, start: number, end: number, count: number): Promise<number> {
  const answer = await client.getLatestCandles({ market: MARKET, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), count });
  return columnsFromWire(answer.candles, "candles").time.length;
}

async function timeLatest(ends: readonly number[], start: number, query: (end: number) => Promise<number>): Promise<Latency> {
  for (const end of ends.slice(0, LATEST_WARMUP)) await query(end);
  const samples: number[] = [];
  for (const end of ends.slice(LATEST_WARMUP)) {
    const t0 = performance.now();
    const rows = await query(end);
    samples.push(performance.now() - t0);
    const expected = Math.min(LATEST_N, (end - start) / MINUTE);
    if (rows !== expected) throw new Error(`latest ${LATEST_N} before ${end} returned ${rows} rows, expected ${expected}`);
  }
  return latency(samples);
}

// ---------------------------------------------------------------------------------------------

export async function runStorageBench(log: (msg: string) => void = () => undefined): Promise<StorageBenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "mdb-bench-storage-"));
    dirs.push(d);
    return d;
  };
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  let daemon: Daemon | undefined;
  const statements: DuckDBPreparedStatement[] = [];
  let failed = true;
  try {
    log(`generating ${ROWS} candles`);
    const candles = generateCandles(ROWS);
    const start = Number(candles.time[0]!);
    const end = Number(candles.time[ROWS - 1]!) + MINUTE;

    // 1 + 2. Ingest, in-process then through the daemon, each on a fresh file; the last of each
    // is kept for the reads.
    const ingestRuns = { baseline: [] as number[], daemon: [] as number[] };
    let batchMs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      log(`ingest ${r + 1}/${REPEATS}`);
      conn?.closeSync();
      conn = undefined;
      instance?.closeSync();
      instance = undefined;
      instance = await DuckDBInstance.create(join(tempDir(), "baseline.duckdb"));
      conn = await instance.connect();
      await migrate(conn); // the daemon's own schema
      ingestRuns.baseline.push(ROWS / ((await baselineIngest(conn, candles)) / 1000));

      await daemon?.stop();
      daemon = undefined;
      daemon = await startDaemon(tempDir());
      await daemon.client.stats({}); // connect the channel outside the timing
      const ingest = await daemonIngest(daemon.client, candles);
      ingestRuns.daemon.push(ROWS / (ingest.ms / 1000));
      batchMs = batchMs.concat(ingest.batchMs);
      const stored = (await daemon.client.stats({})).series[0]?.rows ?? 0n;
      if (stored !== BigInt(ROWS)) throw new Error(`daemon reports ${stored} stored candles, expected ${ROWS}`);
    }
    if (conn === undefined || daemon === undefined) throw new Error("unreachable: no ingest ran");

    const rangeQuery = await conn.prepare(RANGE_SQL);
    statements.push(rangeQuery);
    const latestQuery = await conn.prepare(LATEST_SQL);
    statements.push(latestQuery);

    // 3 + 4. Range reads, alternating baseline and daemon so drift hits both alike.
    const readRuns = { baseline: [] as number[], daemon: [] as number[] };
    let daemonMessages = 0;
    let expectedSum: number | undefined;
    for (let r = 0; r < REPEATS; r++) {
      log(`range read ${r + 1}/${REPEATS}`);
      let s = performance.now();
      const b = await baselineQuery(rangeQuery, start, end);
      readRuns.baseline.push(ROWS / ((performance.now() - s) / 1000));
      s = performance.now();
      const d = await daemonRead(daemon.client, start, end);
      readRuns.daemon.push(ROWS / ((performance.now() - s) / 1000));
      daemonMessages = d.messages;
      expectedSum ??= b.sum;
      if (b.rows !== ROWS || d.rows !== ROWS || b.sum !== expectedSum || d.sum !== expectedSum) {
        throw new Error(`range read mismatch: baseline ${b.rows} rows (sum ${b.sum}), daemon ${d.rows} rows (sum ${d.sum})`);
      }
    }

    // 5. Latest 1,000: what a bot asks (ending after the newest candle), then before random ends
    // inside the stored range (history); the same ends for daemon and in-process DuckDB.
    const latestRuns = { daemon: [] as Latency[], baseline: [] as Latency[] };
    const historyRuns = { daemon: [] as Latency[], baseline: [] as Latency[] };
    const rand = prng(7);
    const minutes = ROWS - LATEST_N;
    const d = daemon;
    for (let r = 0; r < REPEATS; r++) {
      log(`latest ${LATEST_N} ${r + 1}/${REPEATS}`);
      const newest = Array.from({ length: LATEST_WARMUP + LATEST_CALLS }, () => end);
      latestRuns.daemon.push(await timeLatest(newest, start, async (e) => daemonLatest(d.client, start, e, LATEST_N)));
      latestRuns.baseline.push(await timeLatest(newest, start, async (e) => (await baselineQuery(latestQuery, start, e, LATEST_N)).rows));
      const ends = Array.from({ length: LATEST_WARMUP + LATEST_CALLS }, () => start + (LATEST_N + Math.floor(rand() * (minutes + 1))) * MINUTE);
      historyRuns.daemon.push(await timeLatest(ends, start, async (e) => daemonLatest(d.client, start, e, LATEST_N)));
      historyRuns.baseline.push(await timeLatest(ends, start, async (e) => (await baselineQuery(latestQuery, start, e, LATEST_N)).rows));
    }

    const baselineIngestRate = median(ingestRuns.baseline);
    const daemonIngestRate = median(ingestRuns.daemon);
    const ingestRatio = daemonIngestRate / baselineIngestRate;
    const baselineRead = median(readRuns.baseline);
    const daemonReadRate = median(readRuns.daemon);
    const readRatio = daemonReadRate / baselineRead;
    const latestDaemon = medianLatency(latestRuns.daemon);
    const latestBaseline = medianLatency(latestRuns.baseline);
    const historyDaemon = medianLatency(historyRuns.daemon);
    const historyBaseline = medianLatency(historyRuns.baseline);
    const sortedBatch = [...batchMs].sort((a, b) => a - b);

    const targets = [
      { name: "ingest ratio", target: ">= 0.5", value: ingestRatio, ok: ingestRatio >= 0.5 },
      { name: "range read ratio", target: ">= 0.5", value: readRatio, ok: readRatio >= 0.5 },
      { name: "latest-1000 p99 ms", target: "< 5", value: latestDaemon.p99Ms, ok: latestDaemon.p99Ms < 5 },
    ];
    const metrics: Metric[] = [
      { name: "ingest", unit: "rows/s", value: daemonIngestRate, baseline: baselineIngestRate, ratio: ingestRatio, target: "ratio >= 0.5", ok: targets[0]!.ok },
      { name: "ingest batch p50", unit: "ms", value: quantile(sortedBatch, 0.5) },
      { name: "ingest batch max", unit: "ms", value: sortedBatch[sortedBatch.length - 1] ?? NaN },
      { name: "range read", unit: "rows/s", value: daemonReadRate, baseline: baselineRead, ratio: readRatio, target: "ratio >= 0.5", ok: targets[1]!.ok },
      { name: "latest-1000 p50", unit: "ms", value: latestDaemon.p50Ms, baseline: latestBaseline.p50Ms, ratio: latestDaemon.p50Ms / latestBaseline.p50Ms },
      { name: "latest-1000 p99", unit: "ms", value: latestDaemon.p99Ms, baseline: latestBaseline.p99Ms, ratio: latestDaemon.p99Ms / latestBaseline.p99Ms, target: "< 5 ms", ok: targets[2]!.ok },
      { name: "latest-1000 max", unit: "ms", value: latestDaemon.maxMs, baseline: latestBaseline.maxMs },
      { name: "1000 before random end p50", unit: "ms", value: historyDaemon.p50Ms, baseline: historyBaseline.p50Ms, ratio: historyDaemon.p50Ms / historyBaseline.p50Ms },
      { name: "1000 before random end p99", unit: "ms", value: historyDaemon.p99Ms, baseline: historyBaseline.p99Ms, ratio: historyDaemon.p99Ms / historyBaseline.p99Ms },
    ];

    failed = false;
    return {
      benchmark: "storage",
      startedAt: startedAt.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: machineInfo(),
      params: { rows: ROWS, writeBatch: WRITE_BATCH, writesInFlight: WRITES_IN_FLIGHT, latestN: LATEST_N, latestCalls: LATEST_CALLS, latestWarmup: LATEST_WARMUP, repeats: REPEATS },
      ingest: {
        baselineRowsPerS: baselineIngestRate,
        daemonRowsPerS: daemonIngestRate,
        ratio: ingestRatio,
        daemonBatchMs: { p50: quantile(sortedBatch, 0.5), max: sortedBatch[sortedBatch.length - 1] ?? NaN },
        runs: ingestRuns,
      },
      rangeRead: { baselineRowsPerS: baselineRead, daemonRowsPerS: daemonReadRate, ratio: readRatio, daemonMessages, runs: readRuns },
      latest: { daemon: latestDaemon, baseline: latestBaseline, runs: latestRuns },
      beforeRandomEnd: { daemon: historyDaemon, baseline: historyBaseline, runs: historyRuns },
      targets,
      metrics,
    };
  } finally {
    // Clean up everything; a cleanup error is reported only when the run itself succeeded.
    const stopping = daemon?.stop();
    for (const st of statements) st.destroySync();
    conn?.closeSync();
    instance?.closeSync();
    try {
      await stopping;
    } catch (e) {
      if (!failed) throw e;
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }
}
