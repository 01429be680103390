/**
 * The gateway's Upbit REST client against the real simulator (no fakes on either side): the
 * limiter keeps 1,000 concurrent calls inside the simulator's rate limit, retries ride out
 * injected 429s and 5xx, a 418 block stops the group, aborts work mid-queue and mid-request,
 * and the simulator's candles are deterministic and consistent across timeframes as the client
 * reads them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UpbitRestClient, type UpbitRestClientOptions } from "../../src/gateway/upstream/upbit-rest-client.js";
import type { UpbitCandle } from "../../src/gateway/upstream/upbit-types.js";
import {
  UpstreamBlockedError,
  UpstreamUnavailableError,
  isAbortError,
  isUpstreamBlockedError,
} from "../../src/gateway/upstream/upstream-errors.js";
import type { Logger } from "../../src/shared/logger.js";
import { DAY_MS, MINUTE_MS, bucketStart } from "../../src/shared/time.js";
import type { Timeframe } from "../../src/shared/timeframe.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import { type Simulator, createSimulator } from "../../src/upbit-sim/simulator.js";

/** Simulator and client limit for the load tests: 20x Upbit's, so 1,000 calls take seconds, not ~2 min. */
const LOAD_RATE_LIMIT = 200;
/** Enough liquid markets to spread the load; all are among the busiest KRW pairs of the universe. */
const MARKETS = ["KRW-XRP", "KRW-BTC", "KRW-ETH", "KRW-SOL", "KRW-DOGE"] as const;
/** Longest a poll of `/_sim/stats` may wait for a condition before the test fails. */
const POLL_DEADLINE_MS = 5_000;
const HOUR_MS = 60 * MINUTE_MS;

interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

const SIM_MAIN = new URL("../../src/upbit-sim/main.ts", import.meta.url).pathname;
/** Longest the simulator process may take to print its listening line. */
const LAUNCH_TIMEOUT_MS = 20_000;

/**
 * `npm run sim` as its own process: serving 1,000 pages of 200 candles costs the simulator as
 * much CPU as the client spends reading them, so on a 2-core machine the two must not share one
 * event loop, or the test measures CPU starvation instead of the limiter.
 */
async function launchSimulator(args: readonly string[]): Promise<{ restUrl: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SIM_MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, "exit");
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await exited;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`simulator did not start within ${LAUNCH_TIMEOUT_MS} ms: ${stderr}`)), LAUNCH_TIMEOUT_MS);
      child.once("exit", (code) => reject(new Error(`simulator exited with ${String(code)}: ${stderr}`)));
      createInterface({ input: child.stdout! }).once("line", (l: string) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    const event = JSON.parse(line) as { event: string; restUrl: string };
    if (event.event !== "listening") throw new Error(`unexpected first line from the simulator: ${line}`);
    return { restUrl: event.restUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function candleStats(restUrl: string): Promise<GroupTraffic> {
  const res = await fetch(`${restUrl}/_sim/stats`);
  const body = (await res.json()) as { groups: Record<string, GroupTraffic> };
  const g = body.groups.candles;
  if (g === undefined) throw new Error("simulator stats lack the candles group");
  return g;
}

async function postAdmin(restUrl: string, path: "/_sim/faults" | "/_sim/reset", body: unknown): Promise<void> {
  const res = await fetch(`${restUrl}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

/** Polls the candle stats until `done` holds; fails after POLL_DEADLINE_MS. */
async function waitForStats(restUrl: string, done: (g: GroupTraffic) => boolean): Promise<GroupTraffic> {
  const deadline = Date.now() + POLL_DEADLINE_MS;
  for (;;) {
    const g = await candleStats(restUrl);
    if (done(g)) return g;
    if (Date.now() > deadline) throw new Error(`simulator stats never reached the expected state: ${JSON.stringify(g)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A logger that keeps the messages, so a test can count the client's retries by cause. */
function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return { messages, info: (m) => messages.push(m), warn: (m) => messages.push(m), error: (m) => messages.push(m) };
}

/** Every call returned a full, newest-first page of its market, strictly before its `to`. */
function expectPage(candles: UpbitCandle[], market: string, to: number, count: number): void {
  expect(candles).toHaveLength(count);
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i]!;
    expect(c.market).toBe(market);
    expect(c.timeMs).toBeLessThan(to);
    if (i > 0) expect(c.timeMs).toBeLessThan(candles[i - 1]!.timeMs);
  }
}

describe("Upbit REST client vs the simulator", () => {
  let stopSim: (() => Promise<void>) | undefined;
  let restUrl: string;
  const clients: UpbitRestClient[] = [];
  const newClient = (options: UpbitRestClientOptions = {}): UpbitRestClient => {
    const client = new UpbitRestClient({ baseUrl: restUrl, ...options });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    ({ restUrl, stop: stopSim } = await launchSimulator(["--port", "0", "--markets", "30", "--rate-limit", String(LOAD_RATE_LIMIT)]));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopSim?.();
  });
  beforeEach(async () => {
    await postAdmin(restUrl, "/_sim/reset", {});
  });

  it("1,000 concurrent candle calls through one limiter: all succeed, zero 429s, never above the limit in any second", async () => {
    const client = newClient({ rateLimit: { limitPerSecond: LOAD_RATE_LIMIT } });
    const lastMinute = bucketStart("1m", Date.now());
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 1_000; i++) {
      const market = MARKETS[i % MARKETS.length]!;
      const to = lastMinute - (i % 10) * HOUR_MS;
      calls.push(client.candles(market, "1m", { count: 200, to }, { priority: "NORMAL" }).then((page) => expectPage(page, market, to, 200)));
    }
    await Promise.all(calls);

    const stats = await candleStats(restUrl);
    expect(stats.rejected_429).toBe(0);
    // One request per call: nothing was refused and retried behind our back.
    expect(stats.requests).toBe(1_000);
    expect(stats.max_per_second).toBeLessThanOrEqual(LOAD_RATE_LIMIT);
    // The limiter did let calls run in parallel (a serialising client would also pass the checks above).
    expect(stats.max_per_second).toBeGreaterThanOrEqual(25);
  });

  it("with a burst of five 429s and 20% 5xx, 100 calls all succeed within their retry budget", async () => {
    await postAdmin(restUrl, "/_sim/faults", { burst429: { count: 5 }, errorRate: 0.2 });
    const log = recordingLogger();
    // 0.2^7 per call: a call exhausting 7 attempts on 5xx alone is a ~1e-3 event over 100 calls.
    const maxRetries = 6;
    const client = newClient({
      rateLimit: { limitPerSecond: LOAD_RATE_LIMIT, rateLimitBackoffBaseMs: 200 },
      maxRetries,
      retryBaseDelayMs: 20,
      logger: log,
    });
    const lastMinute = bucketStart("1m", Date.now());
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const market = MARKETS[i % MARKETS.length]!;
      const to = lastMinute - (i % 20) * HOUR_MS;
      calls.push(client.candles(market, "1m", { count: 200, to }, { priority: "NORMAL" }).then((page) => expectPage(page, market, to, 200)));
    }
    await Promise.all(calls);

    const stats = await candleStats(restUrl);
    const retried429 = log.messages.filter((m) => m === "upbit rate limited (429); group paused").length;
    const retried5xx = log.messages.filter((m) => m === "upbit server error; retrying").length;
    expect(stats.rejected_429).toBe(5);
    expect(retried429).toBe(5);
    // The simulator saw every retry: one request per call plus one per 429 and per 5xx.
    expect(stats.requests).toBe(100 + 5 + retried5xx);
    // ~20% of ~125 accepted requests failed; far from zero, far from all.
    expect(retried5xx).toBeGreaterThanOrEqual(5);
    expect(retried5xx).toBeLessThan(60);
  });

  it("a non-JSON (HTML) 5xx body and a JSON one both become typed Unavailable errors after the retry budget", async () => {
    await postAdmin(restUrl, "/_sim/faults", { errorRate: 1 });
    const client = newClient({ rateLimit: { limitPerSecond: LOAD_RATE_LIMIT }, maxRetries: 1, retryBaseDelayMs: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => client.candles("KRW-BTC", "1m", { count: 10 }, { priority: "NORMAL" })),
    );
    const errors = results.map((r) => (r.status === "rejected" ? (r.reason as unknown) : r.value));
    for (const e of errors) {
      expect(e).toBeInstanceOf(UpstreamUnavailableError);
      expect((e as UpstreamUnavailableError).status).toBe(500);
      expect((e as UpstreamUnavailableError).attempts).toBe(2);
    }
    const messages = errors.map((e) => (e as Error).message);
    // The simulator answers half its injected 5xx with an HTML page: the last attempt of some
    // calls got the page (no Upbit error in the message), of others Upbit's JSON error.
    expect(messages.some((m) => m.endsWith("HTTP 500"))).toBe(true);
    expect(messages.some((m) => m.endsWith("HTTP 500 500: Internal server error"))).toBe(true);
    expect((await candleStats(restUrl)).requests).toBe(24);
  });

  it("abort mid-request: the call rejects with AbortError at once, long before the delayed reply", async () => {
    const client = newClient({ rateLimit: { limitPerSecond: LOAD_RATE_LIMIT } });
    await postAdmin(restUrl, "/_sim/faults", { latencyMs: 10_000 });
    const controller = new AbortController();
    const call = client.candles("KRW-BTC", "1m", { count: 5 }, { priority: "NORMAL", signal: controller.signal });
    const settled = call.then(
      () => "resolved",
      (e: unknown) => e,
    );
    // The request has reached the simulator, which holds the reply for 10 s.
    await waitForStats(restUrl, (g) => g.requests === 1);
    const abortedAt = Date.now();
    controller.abort(new Error("caller gave up"));
    const outcome = await settled;
    expect(isAbortError(outcome)).toBe(true);
    expect(Date.now() - abortedAt).toBeLessThan(2_000);
    // The client is not wedged: with the latency gone the next call goes through.
    await postAdmin(restUrl, "/_sim/faults", { latencyMs: 0 });
    expect(await client.candles("KRW-BTC", "1m", { count: 5 }, { priority: "NORMAL" })).toHaveLength(5);
  });

  it("abort mid-queue: the waiting call rejects with AbortError, leaves the queue and is never sent", async () => {
    const limit = 3;
    const client = newClient({ rateLimit: { limitPerSecond: limit, criticalReserve: 0 } });
    await postAdmin(restUrl, "/_sim/faults", { latencyMs: 300 });
    const normal = { priority: "NORMAL" } as const;
    const first = Array.from({ length: limit }, () => client.candles("KRW-BTC", "1m", { count: 5 }, normal));
    const controller = new AbortController();
    const queued = client.candles("KRW-ETH", "1m", { count: 5 }, { ...normal, signal: controller.signal });
    const queuedOutcome = queued.then(
      () => "resolved",
      (e: unknown) => e,
    );
    const behind = client.candles("KRW-XRP", "1m", { count: 5 }, normal);
    await waitForStats(restUrl, (g) => g.requests === limit);
    expect(client.limiter.stats("candles").queued.NORMAL).toBe(2);

    controller.abort();
    expect(isAbortError(await queuedOutcome)).toBe(true);
    expect(client.limiter.stats("candles").queued.NORMAL).toBe(1);
    await Promise.all(first);
    // FIFO: had the aborted call stayed queued, it would have been sent before this one.
    const last = await behind;
    expect(last[0]?.market).toBe("KRW-XRP");
    expect((await candleStats(restUrl)).requests).toBe(limit + 1);
  });
});

describe("Upbit REST client vs a simulator that blocks (418)", () => {
  /** Upbit's own limit: the simulator refuses the 11th request of a second. */
  const SIM_LIMIT = 10;
  let sim: Simulator;
  let restUrl: string;
  let client: UpbitRestClient | undefined;

  beforeAll(async () => {
    sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, markets: 30, rateLimit: SIM_LIMIT });
    ({ restUrl } = await sim.start());
  });
  afterAll(async () => {
    await client?.close();
    await sim.stop();
  });

  it("a client that keeps sending after 429s is blocked; the group stops and fails fast with the retry time, sending nothing", async () => {
    // A limiter configured far above the simulator's limit: 40 calls go out at once.
    client = new UpbitRestClient({ baseUrl: restUrl, rateLimit: { limitPerSecond: 1_000, criticalReserve: 0 } });
    const c = client;
    const startedAt = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => c.candles(MARKETS[i % MARKETS.length]!, "1m", { count: 10 }, { priority: "NORMAL" })),
    );
    const stats = await candleStats(restUrl);
    expect(stats.rejected_429).toBeGreaterThanOrEqual(1);
    // Each call sent once: a 429 paused the group and the block came before any retry.
    expect(stats.requests).toBe(40);

    const fulfilled = results.filter((r) => r.status === "fulfilled").length;
    expect(fulfilled).toBeGreaterThanOrEqual(SIM_LIMIT);
    expect(fulfilled).toBeLessThanOrEqual(2 * SIM_LIMIT);
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    for (const e of errors) expect(e).toBeInstanceOf(UpstreamBlockedError);
    const blocked = errors as UpstreamBlockedError[];
    // Some calls received the simulator's 418 itself ("blocked for 10 seconds").
    const with418 = blocked.filter((e) => e.upbitError?.name === 418);
    expect(with418.length).toBeGreaterThanOrEqual(1);
    const retryAtMs = Math.max(...blocked.map((e) => e.retryAtMs));
    expect(retryAtMs).toBeGreaterThan(Date.now());
    expect(retryAtMs).toBeLessThanOrEqual(Date.now() + 10_000 + (Date.now() - startedAt));
    for (const e of blocked) expect(e.group).toBe("candles");
    expect(c.limiter.blockedUntil("candles")).toBe(retryAtMs);

    // During the block: every call fails at once with the retry time and nothing reaches the simulator.
    const during = await Promise.allSettled(
      Array.from({ length: 10 }, () => c.candles("KRW-BTC", "1m", { count: 10 }, { priority: "NORMAL" })),
    );
    for (const r of during) {
      expect(r.status).toBe("rejected");
      const e = (r as PromiseRejectedResult).reason as unknown;
      expect(isUpstreamBlockedError(e)).toBe(true);
      expect((e as UpstreamBlockedError).retryAtMs).toBe(retryAtMs);
      expect((e as UpstreamBlockedError).endpoint).toBe("/v1/candles/minutes/1");
    }
    expect((await candleStats(restUrl)).requests).toBe(40);
  });
});

/** Mon 2026-03-16 09:30:00.250 UTC: a fixed "now" for reproducible simulators. */
const FIXED_NOW = Date.UTC(2026, 2, 16, 9, 30, 0, 250);
/** The window checked for timeframe consistency: the whole previous UTC day. */
const WINDOW_END = bucketStart("1d", FIXED_NOW);
const WINDOW_START = WINDOW_END - DAY_MS;

interface Ohlcv {
  timeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  /** 1-minute candles merged into it. */
  parts: number;
}

/** Every 1-minute candle of `market` in [from, to), paged back with `to` = oldest time, oldest first. */
async function minuteCandles(client: UpbitRestClient, market: string, from: number, to: number): Promise<UpbitCandle[]> {
  const out: UpbitCandle[] = [];
  let end = to;
  // A day holds at most 1,440 one-minute buckets: 8 pages; the bound only stops a broken pager.
  for (let page = 0; page < 20; page++) {
    const rows = await client.candles(market, "1m", { count: 200, to: end }, { priority: "NORMAL" });
    out.push(...rows.filter((c) => c.timeMs >= from));
    const oldest = rows[rows.length - 1];
    if (rows.length < 200 || oldest === undefined || oldest.timeMs <= from) return out.reverse();
    end = oldest.timeMs;
  }
  throw new Error(`paging ${market} did not reach ${new Date(from).toISOString()}`);
}

function aggregate(minutes: readonly UpbitCandle[], tf: Timeframe): Ohlcv[] {
  const byBucket = new Map<number, Ohlcv>();
  for (const m of minutes) {
    const t = bucketStart(tf, m.timeMs);
    const a = byBucket.get(t);
    if (a === undefined) {
      byBucket.set(t, { timeMs: t, open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume, quoteVolume: m.quoteVolume, parts: 1 });
      continue;
    }
    a.high = Math.max(a.high, m.high);
    a.low = Math.min(a.low, m.low);
    a.close = m.close;
    a.volume += m.volume;
    a.quoteVolume += m.quoteVolume;
    a.parts++;
  }
  return [...byBucket.values()];
}

/** Candles of `tf` in [from, to), oldest first, paged like `minuteCandles`. */
async function candlesIn(client: UpbitRestClient, market: string, tf: Timeframe, from: number, to: number): Promise<UpbitCandle[]> {
  const out: UpbitCandle[] = [];
  let end = to;
  for (let page = 0; page < 10; page++) {
    const rows = await client.candles(market, tf, { count: 200, to: end }, { priority: "NORMAL" });
    out.push(...rows.filter((c) => c.timeMs >= from));
    const oldest = rows[rows.length - 1];
    if (rows.length < 200 || oldest === undefined || oldest.timeMs <= from) return out.reverse();
    end = oldest.timeMs;
  }
  throw new Error(`paging ${market} ${tf} did not reach ${new Date(from).toISOString()}`);
}

/**
 * Volumes: the wire spells each candle's amounts with 8 fractional digits, so a sum of n
 * one-minute values may differ from the coarse candle by up to n half-units of 1e-8 besides
 * float error; for these markets that is far below 1e-9 relative, which is what is asserted.
 */
function expectSameVolume(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

describe("simulator determinism and timeframe consistency through the REST client", () => {
  const sims: Simulator[] = [];
  const clients: UpbitRestClient[] = [];
  /** A simulator with a fixed clock and no effective rate limit (its windows never advance), and a client for it. */
  async function start(seed: number): Promise<{ sim: Simulator; client: UpbitRestClient }> {
    const sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, seed, rateLimit: 1_000_000 }, { now: () => FIXED_NOW });
    sims.push(sim);
    const { restUrl } = await sim.start();
    const client = new UpbitRestClient({ baseUrl: restUrl, rateLimit: { limitPerSecond: 1_000 } });
    clients.push(client);
    return { sim, client };
  }
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(sims.map((s) => s.stop()));
  });

  let a: { sim: Simulator; client: UpbitRestClient };
  let b: { sim: Simulator; client: UpbitRestClient };
  let other: { sim: Simulator; client: UpbitRestClient };
  const LIQUID = "KRW-XRP";
  /** The least liquid KRW market listed well before the window (picked from seed 7's universe). */
  let illiquid: string;

  beforeAll(async () => {
    [a, b, other] = await Promise.all([start(7), start(7), start(8)]);
    const quiet = a.sim.exchange.markets
      .filter((m) => m.quote === "KRW" && m.listedAtMs < WINDOW_START - 7 * DAY_MS)
      .sort((x, y) => x.tradesPerMinute - y.tradesPerMinute)[0];
    if (quiet === undefined) throw new Error("no illiquid KRW market in the universe");
    illiquid = quiet.code;
  });

  it("two simulators with the same seed and clock serve identical candles; another seed does not", async () => {
    const queries: Array<[string, Timeframe, number]> = [
      [LIQUID, "1m", FIXED_NOW - 3 * HOUR_MS],
      [LIQUID, "60m", WINDOW_END],
      [LIQUID, "1d", WINDOW_END],
      [illiquid, "1m", WINDOW_END],
      [illiquid, "5m", FIXED_NOW - HOUR_MS],
      [illiquid, "1d", WINDOW_END],
    ];
    for (const [market, tf, to] of queries) {
      const [x, y] = await Promise.all(
        [a, b].map((s) => s.client.candles(market, tf, { count: 200, to }, { priority: "NORMAL" })),
      );
      expect(x!.length).toBeGreaterThan(0);
      expect(y).toEqual(x);
    }
    // The comparison can tell simulators apart: a different seed gives different trades.
    const [mine, theirs] = await Promise.all(
      [a, other].map((s) => s.client.candles(LIQUID, "1m", { count: 200, to: FIXED_NOW - 3 * HOUR_MS }, { priority: "NORMAL" })),
    );
    expect(theirs).not.toEqual(mine);
  });

  it("1-minute candles aggregate exactly to the 5-minute, 60-minute and day candles (liquid and illiquid market)", async () => {
    const client = a.client;
    for (const market of [LIQUID, illiquid]) {
      const minutes = await minuteCandles(client, market, WINDOW_START, WINDOW_END);
      expect(minutes.length).toBeGreaterThan(0);
      if (market === LIQUID) expect(minutes).toHaveLength(1_440);
      else expect(minutes.length).toBeLessThan(1_440 / 2); // sparse: buckets without trades are absent
      for (const tf of ["5m", "60m", "1d"] as const) {
        const expected = aggregate(minutes, tf);
        const actual = await candlesIn(client, market, tf, WINDOW_START, WINDOW_END);
        expect(actual.map((c) => c.timeMs), `${market} ${tf} bucket times`).toEqual(expected.map((e) => e.timeMs));
        actual.forEach((c, i) => {
          const e = expected[i]!;
          expect([c.open, c.high, c.low, c.close], `${market} ${tf} ${new Date(c.timeMs).toISOString()} OHLC`).toEqual([e.open, e.high, e.low, e.close]);
          expectSameVolume(c.volume, e.volume);
          expectSameVolume(c.quoteVolume, e.quoteVolume);
        });
      }
    }
  });
});
