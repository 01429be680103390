/** GetStats over gRPC against the real daemon process: what the store holds and what the gateway does. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { MINUTE_MS } from "../../src/shared/time.js";
import { removeDir, tempDir } from "../support/daemon-process.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

const CELL_MS = 200 * MINUTE_MS;

describe("GetStats", () => {
  let stack: Stack;
  let socketDir: string;
  beforeAll(async () => {
    socketDir = tempDir("mdb-sock-");
    stack = await startStack({ daemonListen: `unix:${socketDir}/storage.sock` });
  });
  afterAll(async () => {
    await stack.stop();
    removeDir(socketDir);
  });

  it("counts stored candles and series, upstream calls and open streams", async () => {
    const end = (Math.floor(Date.now() / CELL_MS) - 2) * CELL_MS;
    const before = await stack.client.getStats({});
    expect(before.store).toMatchObject({ available: true, candleRows: 0n, seriesCount: 0 });
    const answer = await stack.client.getCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - CELL_MS), endMs: BigInt(end) });

    const controller = new AbortController();
    const stream = stack.client.streamTickers({ markets: ["KRW-BTC"] }, { signal: controller.signal })[Symbol.asyncIterator]();
    await stream.next();
    const stats = await stack.client.getStats({ includeSeries: true });
    controller.abort();
    await stream.next().catch(() => undefined);

    expect(stats.store).toMatchObject({ available: true, candleRows: BigInt(answer.candles.length), seriesCount: 1 });
    expect(stats.store!.databaseSizeBytes).toBeGreaterThan(0n);
    expect(stats.store!.series).toEqual([
      expect.objectContaining({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, rows: 200n, firstTimeMs: BigInt(end - CELL_MS), lastTimeMs: BigInt(end - MINUTE_MS), coverageIntervals: 1 }),
    ]);
    expect(stats.store!.cache.map((c) => c.kind).sort()).toEqual(["orderbook", "ticker", "trades"]);
    // The market list and the window: two REST calls at least.
    expect(Number(stats.gateway!.upstreamCalls)).toBeGreaterThanOrEqual(2);
    expect(stats.gateway).toMatchObject({ activeStreams: 1, upstreamSubscriptions: 1 });
    expect(stats.gateway!.eventLoopDelayMaxMs).toBeGreaterThan(0);
    expect(stats.gateway!.eventLoopDelayMaxMs).toBeGreaterThanOrEqual(stats.gateway!.eventLoopDelayP99Ms);
    // Serving the calls above ran on the loop's thread: some own work was measured.
    expect(stats.gateway!.eventLoopBusyMaxMs).toBeGreaterThan(0);
    expect(stats.gateway!.eventLoopBusyBlocks.map((b) => b.atLeastMs)).toEqual([5, 10, 20, 50, 100, 250, 1_000]);
    expect(Number(stats.gateway!.serverTimeMs)).toBeGreaterThanOrEqual(Number(stats.gateway!.startedAtMs));
    // Series are listed only when asked for.
    expect((await stack.client.getStats({})).store!.series).toEqual([]);
  });

  it("still answers while the daemon is down, saying the store is unavailable", async () => {
    stack.daemon.child.kill("SIGKILL");
    await stack.daemon.exited;
    const stats = await stack.client.getStats({});
    expect(stats.store).toMatchObject({ available: false, candleRows: 0n });
    expect(stats.gateway!.startedAtMs).toBeGreaterThan(0n);
    await stack.restartDaemon();
  });
});
