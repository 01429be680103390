/**
 * FetchCandleRange end to end over gRPC: simulator (Upbit), the real daemon process and the
 * gateway. Batches are checked against the simulator's own candles and traffic.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type CandleBatch,
  type FetchCandleRangeRequestSchema,
  GapReason,
  Priority,
  Source,
  Timeframe,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { fixedDecimalText } from "../../src/shared/decimal-text.js";
import { MINUTE_MS } from "../../src/shared/time.js";
import { AMOUNT_FRACTION_DIGITS } from "../../src/upbit-sim/upbit-json.js";
import { removeDir, tempDir } from "../support/daemon-process.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

const CELL_MS = 200 * MINUTE_MS;
const LIMIT = 10;

type Request = MessageInitShape<typeof FetchCandleRangeRequestSchema>;

/** End of the `k`-th whole cell before now: closed, on the window grid. */
function cellEnd(k: number): number {
  return (Math.floor(Date.now() / CELL_MS) - k) * CELL_MS;
}

async function fetchAll(stack: Stack, req: Request, options: { signal?: AbortSignal } = {}): Promise<CandleBatch[]> {
  const batches: CandleBatch[] = [];
  for await (const m of stack.client.fetchCandleRange(req, options)) batches.push(m.batch!);
  return batches;
}

async function errorOf(stack: Stack, req: Request): Promise<{ code: number; details: string }> {
  return fetchAll(stack, req).then(
    () => ({ code: status.OK, details: "" }),
    (e: unknown) => e as { code: number; details: string },
  );
}

/** The rows of `market`'s batches, [time, open, high, low, close, volume, quote volume]. */
function rowsOf(batches: readonly CandleBatch[], market: string): number[][] {
  return batches
    .filter((b) => b.market === market)
    .flatMap((b) => b.timeMs.map((t, i) => [Number(t), b.open[i]!, b.high[i]!, b.low[i]!, b.close[i]!, b.volume[i]!, b.quoteVolume[i]!]));
}

/** The simulator's 1-minute candles in `[start, end)` as its REST API spells them. */
function simRows(stack: Stack, market: string, start: number, end: number): number[][] {
  const spelled = (n: number) => Number(fixedDecimalText(n, AMOUNT_FRACTION_DIGITS));
  const count = (end - start) / MINUTE_MS;
  return stack.sim.exchange
    .candles(market, "1m", end, count)
    .filter((c) => c.timeMs >= start)
    .reverse()
    .map((c) => [c.timeMs, ...[c.open, c.high, c.low, c.close, c.volume, c.quoteVolume].map(spelled)]);
}

async function candleRequests(stack: Stack): Promise<number> {
  return (await stack.traffic()).candles?.requests ?? 0;
}

describe("FetchCandleRange against the simulator", () => {
  let stack: Stack;
  let quiet: string;
  beforeAll(async () => {
    stack = await startStack({ rateLimit: LIMIT });
    quiet = [...stack.sim.exchange.markets].filter((m) => m.quote === "KRW").sort((a, b) => a.tradesPerMinute - b.tradesPerMinute)[0]!.code;
    await stack.client.listMarkets({});
  });
  afterAll(async () => {
    for (const [group, g] of Object.entries(await stack.traffic())) {
      expect(g.rejected_429, group).toBe(0);
      expect(g.max_per_second, group).toBeLessThanOrEqual(LIMIT);
    }
    await stack.stop();
  });

  it("streams each market in order, ascending, in batches, equal to the simulator's candles, then serves it again from the store", async () => {
    const end = cellEnd(3);
    const start = end - 6 * CELL_MS;
    const req = { markets: ["KRW-BTC", quiet], timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), batchSize: 500 };
    const before = await candleRequests(stack);
    const cold = await fetchAll(stack, req);

    // One market after the other, each batch one market, full batches but the last of each market.
    const order = cold.map((b) => b.market).filter((m, i, all) => m !== all[i - 1]);
    expect(order).toEqual(["KRW-BTC", quiet]);
    for (const market of order) {
      const mine = cold.filter((b) => b.market === market);
      expect(mine.slice(0, -1).every((b) => b.timeMs.length === 500)).toBe(true);
      expect(mine.slice(0, -1).every((b) => b.meta === undefined)).toBe(true);
      expect(mine.at(-1)!.meta).toMatchObject({ complete: true, gaps: [], upstreamCalls: 6, splits: 6, priority: Priority.LOW });
      const rows = rowsOf(cold, market);
      expect(rows).toEqual(simRows(stack, market, start, end));
      const times = rows.map((r) => r[0]!);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    expect(rowsOf(cold, "KRW-BTC")).toHaveLength(6 * 200);
    expect(await candleRequests(stack)).toBe(before + 12);

    // Progress only grows and ends at the whole range.
    const done = cold.map((b) => Number(b.progress!.bucketsDone));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(cold.at(-1)!.progress).toMatchObject({ bucketsDone: 2400n, bucketsTotal: 2400n, marketsDone: 2, marketsTotal: 2 });
    expect(cold.find((b) => b.meta !== undefined)!.progress).toMatchObject({ bucketsDone: 1200n, marketsDone: 1 });

    const warm = await fetchAll(stack, req);
    expect(await candleRequests(stack)).toBe(before + 12);
    for (const market of order) {
      expect(rowsOf(warm, market)).toEqual(rowsOf(cold, market));
      expect(warm.filter((b) => b.market === market).at(-1)!.meta).toMatchObject({ source: Source.STORE, upstreamCalls: 0, complete: true });
    }
  });

  it("fetches only the windows the store lacks, and slots them in at their place", async () => {
    const end = cellEnd(20);
    const start = end - 5 * CELL_MS;
    // The middle cell is stored first.
    await stack.client.getCandles({ market: "KRW-ETH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(start + 2 * CELL_MS), endMs: BigInt(start + 3 * CELL_MS) });
    const before = await candleRequests(stack);
    const batches = await fetchAll(stack, { markets: ["KRW-ETH"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), batchSize: 150 });
    expect(await candleRequests(stack)).toBe(before + 4);
    expect(batches.at(-1)!.meta).toMatchObject({ source: Source.MIXED, upstreamCalls: 4, splits: 4, complete: true });
    expect(rowsOf(batches, "KRW-ETH")).toEqual(simRows(stack, "KRW-ETH", start, end));
  });

  it("never sends the forming bucket: it is a FORMING gap of each market's meta", async () => {
    const formingEnd = (Math.floor(Date.now() / MINUTE_MS) + 1) * MINUTE_MS;
    const start = formingEnd - 30 * MINUTE_MS;
    const batches = await fetchAll(stack, { markets: ["KRW-BTC"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(formingEnd) });
    const last = batches.at(-1)!;
    const formingGap = last.meta!.gaps.find((g) => g.reason === GapReason.FORMING)!;
    expect(formingGap).toBeDefined();
    const times = rowsOf(batches, "KRW-BTC").map((r) => r[0]!);
    expect(times.every((t) => t < Number(formingGap.startMs))).toBe(true);
    expect(times.at(-1)).toBe(Number(formingGap.startMs) - MINUTE_MS);
    expect(last.meta!.complete).toBe(false);
  });

  it("stops the upstream work only it needed when cancelled", async () => {
    const end = cellEnd(200);
    const start = end - 100 * CELL_MS;
    const before = await candleRequests(stack);
    const controller = new AbortController();
    const stream = stack.client.fetchCandleRange(
      { markets: ["KRW-XRP"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), batchSize: 200 },
      { signal: controller.signal },
    );
    const received = await (async () => {
      for await (const _ of stream) {
        controller.abort();
        return true;
      }
      return false;
    })().catch((e: unknown) => (e as { code: number }).code === status.CANCELLED);
    expect(received).toBe(true);
    await vi.waitFor(() => expect(stack.gateway.deps.candles.fetcher.inFlight).toBe(0), { timeout: 10_000, interval: 20 });
    const after = await candleRequests(stack);
    // Fetching ahead is bounded by the parallelism; nothing more was asked of Upbit.
    expect(after - before).toBeLessThanOrEqual(1 + 2 * stack.gateway.deps.config.fetchParallelism);
    expect(after - before).toBeLessThan(100);
  });

  it.each([
    ["no market", { markets: [] }, status.INVALID_ARGUMENT, "markets"],
    ["too many markets", { markets: Array.from({ length: 101 }, (_, i) => `KRW-A${i}`) }, status.INVALID_ARGUMENT, "markets"],
    ["a lower-case market", { markets: ["KRW-BTC", "krw-eth"] }, status.INVALID_ARGUMENT, "markets[1]"],
    ["a market twice", { markets: ["KRW-BTC", "KRW-BTC"] }, status.INVALID_ARGUMENT, "markets[1]"],
    ["an unlisted market", { markets: ["KRW-NOPE"] }, status.NOT_FOUND, "markets[0]"],
    ["no timeframe", { timeframe: Timeframe.UNSPECIFIED }, status.INVALID_ARGUMENT, "timeframe"],
    ["an unknown timeframe", { timeframe: 999 as Timeframe }, status.INVALID_ARGUMENT, "timeframe"],
    ["no start", { startMs: 0n }, status.INVALID_ARGUMENT, "start_ms"],
    ["no end", { endMs: 0n }, status.INVALID_ARGUMENT, "end_ms"],
    ["start after end", { startMs: BigInt(Date.UTC(2024, 1, 1)), endMs: BigInt(Date.UTC(2024, 0, 1)) }, status.INVALID_ARGUMENT, "start_ms"],
    ["a start before 2017", { startMs: BigInt(Date.UTC(2016, 0, 1)) }, status.INVALID_ARGUMENT, "start_ms"],
    ["an end in the future", { endMs: BigInt(Date.now() + 86_400_000) }, status.INVALID_ARGUMENT, "end_ms"],
    ["a batch size too large", { batchSize: 100_001 }, status.INVALID_ARGUMENT, "batch_size"],
    ["an unknown priority", { priority: 9 as Priority }, status.INVALID_ARGUMENT, "priority"],
  ] as const)("refuses %s", async (_name, change, code, field) => {
    const valid: Request = { markets: ["KRW-BTC"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(Date.UTC(2024, 0, 1)), endMs: BigInt(Date.UTC(2024, 0, 2)) };
    const e = await errorOf(stack, { ...valid, ...change } as Request);
    expect(e.code).toBe(code);
    expect(e.details).toContain(field);
  });
});

describe("FetchCandleRange with the storage daemon down", () => {
  let stack: Stack;
  let socketDir: string;
  beforeAll(async () => {
    socketDir = tempDir("mdb-sock-");
    stack = await startStack({ daemonListen: `unix:${socketDir}/storage.sock` });
    await stack.client.listMarkets({});
  });
  afterAll(async () => {
    await stack.stop();
    removeDir(socketDir);
  });

  it("streams from upstream, says the store was unavailable, and is complete", async () => {
    const end = cellEnd(2);
    const start = end - 3 * CELL_MS;
    stack.daemon.child.kill("SIGKILL");
    await stack.daemon.exited;
    const batches = await fetchAll(stack, { markets: ["KRW-BTC"], timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end) });
    expect(rowsOf(batches, "KRW-BTC")).toEqual(simRows(stack, "KRW-BTC", start, end));
    expect(batches.at(-1)!.meta).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 3, complete: true });
    expect(batches.at(-1)!.meta!.gaps.map((g) => g.reason)).toEqual([GapReason.STORE_UNAVAILABLE]);
    await stack.restartDaemon();
  });
});
