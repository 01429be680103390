/**
 * GetCandles when things go wrong: the storage daemon down and back, Upbit blocking us or down,
 * a client cancelling or running out of deadline. Real processes and the simulator throughout.
 */
import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GapReason, Source, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient } from "../../src/shared/grpc/client.js";
import { bucketStart, DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { readAll } from "../support/candles.js";
import { tempDir, removeDir } from "../support/daemon-process.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

const CELL_MS = 200 * MINUTE_MS;
/** The gateway's upstream retry window in the deadline tests: shorter than the default 30 s. */
const RETRY_WINDOW_MS = 5_000;

/** A cell-aligned end `daysAgo` days back, so every request below plans whole windows. */
function cellEnd(daysAgo: number): number {
  return Math.floor((Date.now() - daysAgo * DAY_MS) / CELL_MS) * CELL_MS;
}

async function failure(p: Promise<unknown>): Promise<{ code: number; details: string; metadata?: Metadata }> {
  return p.then(
    () => {
      throw new Error("the call succeeded; a failure was expected");
    },
    (e: unknown) => e as { code: number; details: string; metadata?: Metadata },
  );
}

describe("GetCandles with the storage daemon down", () => {
  let stack: Stack;
  let socketDir: string;
  beforeAll(async () => {
    socketDir = tempDir("mdb-sock-");
    // A unix socket: the restarted daemon comes back at the same address.
    stack = await startStack({ daemonListen: `unix:${socketDir}/storage.sock` });
  });
  afterAll(async () => {
    await stack.stop();
    removeDir(socketDir);
  });

  it("serves straight from upstream, says so, and caches again once the daemon is back", async () => {
    const end = cellEnd(2);
    const req = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 2 * CELL_MS), endMs: BigInt(end) };
    const warm = await stack.client.getCandles({ ...req, startMs: BigInt(end - 3 * CELL_MS), endMs: BigInt(end - 2 * CELL_MS) });
    expect(warm.meta?.gaps).toEqual([]);

    stack.daemon.child.kill("SIGKILL");
    await stack.daemon.exited;
    const down = await stack.client.getCandles(req);
    const expected = stack.sim.exchange.candles("KRW-BTC", "1m", end, 400).filter((c) => c.timeMs >= end - 2 * CELL_MS);
    expect(down.candles.map((c) => Number(c.timeMs))).toEqual(expected.map((c) => c.timeMs).reverse());
    expect(down.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 2, complete: true });
    expect(down.meta?.gaps.map((g) => g.reason)).toEqual([GapReason.STORE_UNAVAILABLE]);

    await stack.restartDaemon();
    // The gateway reconnects by itself; the first answers after the restart may still miss the store.
    await vi.waitFor(
      async () => {
        const back = await stack.client.getCandles(req);
        expect(back.meta?.gaps).toEqual([]);
      },
      { timeout: 10_000, interval: 100 },
    );
    const cached = await stack.client.getCandles(req);
    expect(cached.meta).toMatchObject({ source: Source.STORE, upstreamCalls: 0 });
    expect(cached.candles.map((c) => Number(c.timeMs))).toEqual(down.candles.map((c) => Number(c.timeMs)));
  });
});

describe("GetCandles when Upbit fails", () => {
  let stack: Stack;
  beforeAll(async () => {
    // A gateway limiter far above the simulator's: enough concurrent windows to get us blocked.
    stack = await startStack({ rateLimit: 10, gatewayRateLimit: 1_000, env: { BACKBONE_FETCH_PARALLELISM: "40" } });
  });
  afterAll(async () => stack.stop());
  afterEach(async () => stack.resetSim());

  it("answers UNAVAILABLE with the retry time when Upbit blocks us (418), and leaves nothing half-written", async () => {
    const end = cellEnd(10);
    const start = end - 40 * CELL_MS;
    const e = await failure(stack.client.getCandles({ market: "KRW-XRP", timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end) }));
    expect(e.code).toBe(status.UNAVAILABLE);
    expect(e.details).toMatch(/Upbit blocks requests of group candles until .*; retry after \d+ s/);
    expect(Number(e.metadata?.get("retry-after-ms")[0])).toBeGreaterThan(0);
    expect((await stack.traffic()).candles!.rejected_429).toBeGreaterThan(0);

    // Whatever was written is whole: every stored row lies in a verified interval, and every
    // verified interval holds exactly the simulator's candles. Windows still in flight when the
    // answer went out may land meanwhile: read until coverage holds still around the rows read.
    const store = createGrpcClient(StorageService, stack.daemon.address);
    try {
      const range = { market: "KRW-XRP", timeframe: Timeframe.MINUTE_1, startMs: BigInt(start - DAY_MS), endMs: BigInt(end) };
      await vi.waitFor(
        async () => {
          const before = (await store.getMissing(range)).covered;
          const { rows } = await readAll(store, range);
          const { covered } = await store.getMissing(range);
          expect(covered).toEqual(before);
          const inCoverage = (t: number) => covered.some((i) => t >= Number(i.startMs) && t < Number(i.endMs));
          expect(rows.filter((r) => !inCoverage(r.time))).toEqual([]);
          const sim = stack.sim.exchange.candles("KRW-XRP", "1m", end, 9_000).filter((c) => inCoverage(c.timeMs) && c.timeMs >= start - DAY_MS);
          expect(rows.map((r) => r.time)).toEqual(sim.map((c) => c.timeMs).reverse());
        },
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      store.close();
    }
  });
});

describe("GetCandles cancellation and deadlines", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { BACKBONE_UPSTREAM_RETRY_WINDOW_MS: String(RETRY_WINDOW_MS) } });
    await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.DAY, count: 1 });
  });
  afterAll(async () => stack.stop());
  afterEach(async () => stack.resetSim());

  /** Candle calls the simulator received, once the limiter has served everything queued before now. */
  async function candleCallsAfterQueueDrains(): Promise<number> {
    // FIFO within a priority: when this one-window request is answered, any window still queued
    // before it (say, of a cancelled request) has been sent already.
    await stack.client.getCandles({ market: "KRW-DOGE", timeframe: Timeframe.MINUTE_1, count: 1, endMs: BigInt(bucketStart("1m", Date.now()) - 20 * DAY_MS) });
    return (await stack.traffic()).candles!.requests - 1;
  }

  it("a cancelled call aborts the upstream work only it needed", async () => {
    await stack.setFaults({ latencyMs: 200 });
    const end = cellEnd(12);
    const controller = new AbortController();
    const call = stack.client.getCandles(
      { market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 60 * CELL_MS), endMs: BigInt(end) },
      { signal: controller.signal },
    );
    await vi.waitFor(async () => expect((await stack.traffic()).candles!.requests).toBeGreaterThan(0), { interval: 20 });
    controller.abort();
    expect((await failure(call)).code).toBe(status.CANCELLED);
    await stack.setFaults({ latencyMs: 0 });
    // 60 windows were planned; at 10 per second only the first second's worth ever left.
    expect(await candleCallsAfterQueueDrains()).toBeLessThanOrEqual(20);
  });

  it("honours the client's deadline and stops the upstream work", async () => {
    await stack.setFaults({ latencyMs: 1_000 });
    const end = cellEnd(14);
    const e = await failure(
      stack.client.getCandles({ market: "KRW-SOL", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - 60 * CELL_MS), endMs: BigInt(end) }, { deadline: new Date(Date.now() + 300) }),
    );
    expect(e.code).toBe(status.DEADLINE_EXCEEDED);
    await stack.setFaults({ latencyMs: 0 });
    expect(await candleCallsAfterQueueDrains()).toBeLessThanOrEqual(20);
  });

  it("answers UNAVAILABLE when Upbit keeps failing, once the retry window is over", async () => {
    await stack.setFaults({ errorRate: 1 });
    const before = (await stack.traffic()).candles?.requests ?? 0;
    const t0 = performance.now();
    const e = await failure(stack.client.getCandles({ market: "KRW-ADA", timeframe: Timeframe.MINUTE_1, count: 10, endMs: BigInt(cellEnd(16)) }));
    const elapsed = performance.now() - t0;
    expect(e.code).toBe(status.UNAVAILABLE);
    // Retried for the window (backoff 250 ms doubling, equal jitter: at least 5 attempts in 5 s), not a fixed few times.
    expect((await stack.traffic()).candles!.requests - before).toBeGreaterThanOrEqual(5);
    expect(elapsed).toBeLessThan(RETRY_WINDOW_MS + 2_000);
    expect(e.details).toMatch(/upstream unavailable/);
  });
});

describe("gateway shutdown", () => {
  it("lets a call in flight finish within the grace period", async () => {
    const stack = await startStack();
    try {
      await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.DAY, count: 1 });
      await stack.setFaults({ latencyMs: 300 });
      const quick = stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 10, endMs: BigInt(cellEnd(20)) });
      await vi.waitFor(async () => expect((await stack.traffic()).candles!.requests).toBeGreaterThan(1), { interval: 20 });
      await stack.gateway.stop(5_000);
      expect((await quick).candles).toHaveLength(10);
    } finally {
      await stack.stop();
    }
  });

  it("cancels calls still running when the grace period ends", async () => {
    const stack = await startStack();
    try {
      await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.DAY, count: 1 });
      await stack.setFaults({ latencyMs: 5_000 });
      const slow = failure(stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, count: 10, endMs: BigInt(cellEnd(21)) }));
      await vi.waitFor(async () => expect((await stack.traffic()).candles!.requests).toBeGreaterThan(1), { interval: 20 });
      await stack.gateway.stop(100);
      expect([status.CANCELLED, status.UNAVAILABLE]).toContain((await slow).code);
    } finally {
      await stack.stop();
    }
  });
});
