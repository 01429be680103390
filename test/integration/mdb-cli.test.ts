/**
 * The `mdb` command-line client as a user runs it: the real bin as a child process against the
 * whole stack (simulator, real daemon process, gateway). Every answer is compared with what the
 * gateway's own RPCs answer for the same request.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANDLE_COLUMNS } from "../../src/cli/candle-rows.js";
import { Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { bucketStart, DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

const BIN = fileURLToPath(new URL("../../bin/mdb.mjs", import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started `mdb`: its output so far, the first stdout line, and its end. */
interface Running {
  readonly child: ChildProcess;
  readonly firstLine: Promise<string>;
  /** Resolves once stderr holds a line starting with `prefix`. */
  stderrLine(prefix: string): Promise<string>;
  readonly done: Promise<Run>;
}

let cwd: string;

function start(args: readonly string[], env: Record<string, string> = {}): Running {
  // BACKBONE_GATEWAY is cleared so only what a test passes decides the address.
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, BACKBONE_GATEWAY: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  const stderrWaiters: { prefix: string; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr += `${line}\n`;
    for (const w of stderrWaiters.filter((x) => line.startsWith(x.prefix))) {
      stderrWaiters.splice(stderrWaiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    void done.then((r) => reject(new Error(`mdb ended (${r.code}) before printing a line:\n${r.stderr}`)));
  });
  firstLine.catch(() => {}); // only tests that wait for it care
  return {
    child,
    firstLine,
    stderrLine: (prefix) =>
      new Promise((resolve, reject) => {
        const seen = stderr.split("\n").find((l) => l.startsWith(prefix));
        if (seen !== undefined) return resolve(seen);
        stderrWaiters.push({ prefix, resolve });
        void done.then((r) => reject(new Error(`mdb ended (${r.code}) before a "${prefix}" line on stderr:\n${r.stderr}`)));
      }),
    done,
  };
}

function mdb(...args: string[]): Promise<Run> {
  return start(args).done;
}

/** A loopback port nobody listens on (bound and released again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type Row = (string | number)[];

/** What GetCandles answers for the range, as rows in the CLI's column order. */
async function expectedRows(stack: Stack, market: string, startMs: number, endMs: number): Promise<Row[]> {
  const answer = await stack.client.getCandles({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(startMs), endMs: BigInt(endMs) });
  return answer.candles.map((c) => [market, Number(c.timeMs), new Date(Number(c.timeMs)).toISOString(), c.open, c.high, c.low, c.close, c.volume, c.quoteVolume]);
}

function rowsOfCsv(text: string): Row[] {
  const [header, ...lines] = text.trimEnd().split("\n");
  expect(header).toBe(CANDLE_COLUMNS.join(","));
  return lines.map((l) => l.split(",")).map(([market, t, iso, ...prices]) => [market!, Number(t), iso!, ...prices.map(Number)]);
}

function rowsOfObjects(objects: Record<string, unknown>[]): Row[] {
  return objects.map((o) => {
    expect(Object.keys(o)).toEqual([...CANDLE_COLUMNS]);
    return CANDLE_COLUMNS.map((c) => o[c] as string | number);
  });
}

async function rowsOfParquet(path: string): Promise<{ rows: Row[]; timeType: string }> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const source = `read_parquet('${path.replaceAll("'", "''")}')`;
    const types = await c.runAndReadAll(`SELECT typeof(time) FROM ${source} LIMIT 1`);
    const result = await c.runAndReadAll(
      `SELECT market, time_ms, strftime(time, '%Y-%m-%dT%H:%M:%S.%gZ'), open, high, low, close, volume, quote_volume FROM ${source}`,
    );
    return {
      rows: result.getRows().map(([market, t, iso, ...prices]) => [String(market), Number(t), String(iso), ...prices.map(Number)]),
      timeType: String(types.getRows()[0]?.[0]),
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** `name  value` of the fetch summary. */
function summaryValue(stdout: string, name: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no "${name}" in the summary:\n${stdout}`);
  return line.slice(name.length).trim();
}

describe("mdb against the stack", () => {
  let stack: Stack;
  let gateway: string;
  // Closed buckets well in the past: complete, and identical in every answer.
  const end = bucketStart("1m", Date.now()) - 3 * DAY_MS;
  const from = end - 600 * MINUTE_MS;
  const range = ["--from", new Date(from).toISOString(), "--to", String(end)];

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "mdb-cli-"));
    // The stack does not report its gateway's port, so the gateway is told one that was free a moment ago.
    stack = await startStack();
    gateway = stack.address;
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("answers --help for mdb and every command with status 0", async () => {
    const runs = await Promise.all(["candles", "fetch", "tickers", "orderbook", "markets", "stats"].map((c) => mdb(c, "--help")));
    for (const r of [await mdb("--help"), ...runs]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage:/);
    }
  });

  it("prints candles in table, csv and json exactly as GetCandles answers them", async () => {
    const expected = await expectedRows(stack, "KRW-BTC", from, end);
    expect(expected.length).toBeGreaterThan(500);
    const [table, csv, json] = await Promise.all(
      ["table", "csv", "json"].map((format) => mdb("candles", "KRW-BTC", "1m", ...range, "--format", format, "--gateway", gateway)),
    );
    for (const r of [table!, csv!, json!]) expect(r.code, r.stderr).toBe(0);
    const [header, ...lines] = table!.stdout.trimEnd().split("\n");
    expect(header!.split(/\s+/)).toEqual([...CANDLE_COLUMNS]);
    expect(lines.map((l) => l.trim().split(/\s+/)).map(([m, t, iso, ...p]) => [m, Number(t), iso, ...p.map(Number)])).toEqual(expected);
    expect(rowsOfCsv(csv!.stdout)).toEqual(expected);
    expect(rowsOfObjects(JSON.parse(json!.stdout) as Record<string, unknown>[])).toEqual(expected);
  });

  it("prints the count form: the N most recent candles before --to", async () => {
    const answer = await stack.client.getCandles({ market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, count: 7, endMs: BigInt(end) });
    const r = await mdb("candles", "KRW-ETH", "1m", "--count", "7", "--to", new Date(end).toISOString().replace("Z", "+00:00"), "--format", "csv", "--gateway", gateway);
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOfCsv(r.stdout).map((row) => row[1])).toEqual(answer.candles.map((c) => Number(c.timeMs)));
  });

  it("fetches several markets to Parquet: every candle GetCandles has, in order, nothing partial left, progress on stderr", async () => {
    const expected = [...(await expectedRows(stack, "KRW-XRP", from, end)), ...(await expectedRows(stack, "KRW-ETH", from, end))];
    const r = await mdb("fetch", "KRW-XRP,KRW-ETH", "1m", ...range, "--out", "both.parquet", "--batch-size", "100", "--gateway", gateway);
    expect(r.code, r.stderr).toBe(0);
    const { rows, timeType } = await rowsOfParquet(join(cwd, "both.parquet"));
    expect(timeType).toBe("TIMESTAMP");
    expect(rows).toEqual(expected);
    expect(readdirSync(cwd).filter((f) => f.endsWith(".partial"))).toEqual([]);
    // Not a terminal: plain progress lines and one line per finished market.
    expect(r.stderr).toMatch(/^progress \d+\.\d% buckets \d+\/\d+ markets \d\/2 candles \d+ market KRW-XRP/m);
    expect(r.stderr).toMatch(/^done KRW-XRP: [\d,]+ candles, \d+ upstream calls, 0 gaps$/m);
    expect(r.stderr).toMatch(/^done KRW-ETH: /m);
    expect(r.stderr).not.toContain("\r");
    expect(summaryValue(r.stdout, "file")).toBe(join(cwd, "both.parquet"));
    expect(summaryValue(r.stdout, "candles")).toBe(expected.length.toLocaleString("en-US"));
    expect(summaryValue(r.stdout, "gaps")).toBe("0");
    expect(summaryValue(r.stdout, "rate")).toMatch(/^[\d,]+ candles\/s$/);
  });

  it("fetches to csv and jsonl the same candles, served from the store the second time", async () => {
    const expected = await expectedRows(stack, "KRW-BTC", from, end);
    const csv = await mdb("fetch", "KRW-BTC", "1m", ...range, "--out", "btc.csv", "--gateway", gateway);
    expect(csv.code, csv.stderr).toBe(0);
    expect(rowsOfCsv(readFileSync(join(cwd, "btc.csv"), "utf8"))).toEqual(expected);
    const jsonl = await mdb("fetch", "KRW-BTC", "1m", ...range, "--out", "btc.jsonl", "--gateway", gateway);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const lines = readFileSync(join(cwd, "btc.jsonl"), "utf8").trimEnd().split("\n");
    expect(rowsOfObjects(lines.map((l) => JSON.parse(l) as Record<string, unknown>))).toEqual(expected);
    expect(summaryValue(jsonl.stdout, "upstream calls")).toBe("0");
    expect(readdirSync(cwd).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  it("removes the partial file and exits 130 when a fetch is interrupted with Ctrl-C", async () => {
    // Days of three markets not fetched yet: dozens of upstream calls at 10 a second, so the fetch is still running.
    const longFrom = end - 20 * DAY_MS;
    const run = start(["fetch", "KRW-BTC,KRW-ETH,KRW-XRP", "1m", "--from", String(longFrom), "--to", String(end - 17 * DAY_MS), "--out", "cut.parquet", "--batch-size", "200", "--gateway", gateway]);
    await run.stderrLine("progress ");
    expect(existsSync(join(cwd, "cut.parquet.partial"))).toBe(true);
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("mdb: interrupted");
    expect(existsSync(join(cwd, "cut.parquet.partial"))).toBe(false);
    expect(existsSync(join(cwd, "cut.parquet"))).toBe(false);
  });

  it("lists markets as ListMarkets answers them, with the gateway taken from BACKBONE_GATEWAY", async () => {
    const answer = await stack.client.listMarkets({ quoteCurrencies: ["KRW"] });
    const r = await start(["markets", "--quote", "KRW", "--format", "json"], { BACKBONE_GATEWAY: gateway }).done;
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { market: string; english_name: string; korean_name: string }[];
    expect(printed.map((m) => [m.market, m.english_name, m.korean_name])).toEqual(answer.markets.map((m) => [m.market, m.englishName, m.koreanName]));
  });

  it("prints tickers once and order books once", async () => {
    const [tickers, book] = await Promise.all([
      mdb("tickers", "KRW-BTC,KRW-ETH", "--format", "json", "--gateway", gateway),
      mdb("orderbook", "KRW-BTC", "--depth", "5", "--format", "json", "--gateway", gateway),
    ]);
    expect(tickers!.code, tickers!.stderr).toBe(0);
    const printed = JSON.parse(tickers!.stdout) as { market: string; price: number; trade_time: string }[];
    expect(printed.map((t) => t.market)).toEqual(["KRW-BTC", "KRW-ETH"]);
    for (const t of printed) expect(t.price).toBeGreaterThan(0);
    expect(book!.code, book!.stderr).toBe(0);
    const parsed = JSON.parse(book!.stdout) as { market: string; units: { ask_price: number; bid_price: number }[] };
    expect(parsed.market).toBe("KRW-BTC");
    expect(parsed.units).toHaveLength(5);
    expect(parsed.units[0]!.ask_price).toBeGreaterThan(parsed.units[0]!.bid_price);
  });

  it("watches tickers until Ctrl-C, then exits 0", async () => {
    const run = start(["tickers", "KRW-BTC", "--watch", "--gateway", gateway]);
    expect(await run.firstLine).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z KRW-BTC price \d/);
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("watches an order book until Ctrl-C, one line per update, then exits 0", async () => {
    const run = start(["orderbook", "KRW-ETH", "--watch", "--depth", "5", "--gateway", gateway]);
    expect(await run.firstLine).toMatch(/^\S+Z KRW-ETH bid \d+ x [\d.]+ ask \d+ x [\d.]+ spread \d+/);
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(0);
  });

  it("shows store and gateway statistics, with the fetched series and the last maintenance run", async () => {
    // A maintenance run now rather than on the daemon's 10-minute timer.
    const run = await stack.daemon.client.maintain({});
    const table = await mdb("stats", "--series", "--gateway", gateway);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^\s+candle rows\s+[\d,]+$/m);
    expect(table.stdout).toMatch(/^\s+upstream calls\s+[\d,]+$/m);
    expect(table.stdout).toMatch(/^\s+event loop\s+delay p99 [\d.]+ ms, longest block [\d.]+ ms, longest own work [\d.]+ ms, \d+ own-work blocks >= 10 ms$/m);
    expect(table.stdout).toMatch(/^KRW-XRP\s+1m\s+\d+/m);
    expect(table.stdout).toMatch(/^\s+last maintenance\s+\d{4}-\d\d-\d\dT[\d:.]+Z \([\dsmhd]+ ago\)$/m);
    expect(table.stdout).toContain(`  maintenance did         ${run.detail}\n`);
    expect(table.stdout).toMatch(/^\s+last compaction\s+none since the daemon started$/m);
    expect(table.stdout).toMatch(/^\s+retention deleted\s+0 candles since the daemon started$/m);
    const json = await mdb("stats", "--format", "json", "--gateway", gateway);
    expect(json.code, json.stderr).toBe(0);
    const stats = JSON.parse(json.stdout) as {
      store: { available: boolean; candle_rows: string; last_maintenance_ms: string; last_maintenance_detail: string; last_compaction_ms: string; retention_deleted_rows: string };
      gateway: { upstream_calls: string };
    };
    expect(stats.store.available).toBe(true);
    expect(Number(stats.store.candle_rows)).toBeGreaterThan(1000);
    expect(Number(stats.gateway.upstream_calls)).toBeGreaterThan(0);
    expect(Number(stats.store.last_maintenance_ms)).toBeGreaterThan(0);
    expect(stats.store).toMatchObject({ last_maintenance_detail: run.detail, last_compaction_ms: "0", retention_deleted_rows: "0" });
  });

  it("prints the server's INVALID_ARGUMENT message for a bad market and exits 1, writing no file", async () => {
    const details = await stack.client.getCandles({ market: "krw-btc", timeframe: Timeframe.MINUTE_1, count: 1 }).then(
      () => "",
      (e: unknown) => (e as { details: string }).details,
    );
    expect(details).toContain("krw-btc");
    const r = await mdb("candles", "krw-btc", "1m", "--count", "1", "--gateway", gateway);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mdb: INVALID_ARGUMENT: ${details}\n`);
    const f = await mdb("fetch", "KRW-BTC,krw-eth", "1m", ...range, "--out", "bad.csv", "--gateway", gateway);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/^mdb: INVALID_ARGUMENT: markets\[1\]: "krw-eth"/m);
    expect(readdirSync(cwd).filter((n) => n.startsWith("bad."))).toEqual([]);
  });

  it("says which address it could not reach, and exits 1", async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const r = await mdb("markets", "--gateway", nowhere);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`mdb: cannot reach the gateway at ${nowhere}`);
  });

  it("exits 2 with a pointer to --help on a bad command line", async () => {
    const r = await mdb("fetch", "KRW-BTC", "1m", "--from", "yesterday", "--to", "now", "--out", "x.csv", "--gateway", gateway);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mdb: --from: "yesterday" is not a time: expected ISO 8601 (2024-01-01, 2024-01-01T09:00:00+09:00, 2024-01-01T00:00:00Z), epoch milliseconds or now\nRun 'mdb fetch --help' for usage.\n`);
  });
});
