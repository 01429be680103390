/**
 * The gateway against a daemon with retention: what retention deleted is fetched again, never
 * served as empty buckets from what the gateway remembered of the store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Source, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

const CELL_MS = 200 * MINUTE_MS;

describe("GetCandles with the daemon's retention", () => {
  let stack: Stack;
  beforeAll(async () => {
    // Timers off: maintenance runs when the test asks for it.
    stack = await startStack({ daemonEnv: { BACKBONE_RETENTION: "1m=1d", BACKBONE_MAINTENANCE_INTERVAL_MS: "0", BACKBONE_CHECKPOINT_INTERVAL_MS: "0" } });
    await stack.client.listMarkets({});
  });
  afterAll(() => stack.stop());

  it("fetches again what retention deleted, and keeps serving recent candles from memory and store", async () => {
    const oldEnd = (Math.floor((Date.now() - 3 * DAY_MS) / CELL_MS) + 1) * CELL_MS;
    const old = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(oldEnd - CELL_MS), endMs: BigInt(oldEnd) };
    const recentEnd = Math.floor(Date.now() / CELL_MS) * CELL_MS;
    const recent = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(recentEnd - CELL_MS), endMs: BigInt(recentEnd) };

    const first = await stack.client.getCandles(old);
    expect(first.candles).toHaveLength(200);
    const firstRecent = await stack.client.getCandles(recent);
    expect((await stack.client.getCandles(old)).meta).toMatchObject({ source: Source.STORE, upstreamCalls: 0 });

    const run = await stack.daemon.client.maintain({});
    expect(run.retentionDeletedRows).toBeGreaterThanOrEqual(200n);

    const again = await stack.client.getCandles(old);
    expect(again.meta).toMatchObject({ upstreamCalls: 1, complete: true });
    expect(again.candles.map((c) => [c.timeMs, c.close])).toEqual(first.candles.map((c) => [c.timeMs, c.close]));
    // Inside the kept day nothing was deleted, and nothing is fetched again.
    const recentAgain = await stack.client.getCandles(recent);
    expect(recentAgain.meta).toMatchObject({ source: Source.STORE, upstreamCalls: 0 });
    expect(recentAgain.candles.map((c) => c.timeMs)).toEqual(firstRecent.candles.map((c) => c.timeMs));
  });
});
