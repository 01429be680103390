import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { OrderbookSchema, TickerSchema, Timeframe, TradeSchema } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { makeCandles, MINUTE, readAll, segment, T0 } from "../support/candles.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";

const dirs: string[] = [];
const daemons: DaemonProcess[] = [];
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
async function start(dataDir: string, options?: Parameters<typeof startDaemon>[1]): Promise<DaemonProcess> {
  const d = await startDaemon(dataDir, options);
  daemons.push(d);
  return d;
}
afterEach(async () => {
  for (const d of daemons.splice(0)) await stopDaemon(d);
  for (const d of dirs.splice(0)) removeDir(d);
});

const BATCH = 20_000;
function batch(i: number) {
  const start = T0 + i * BATCH * MINUTE;
  return { segments: [segment("KRW-CRASH", makeCandles(start, BATCH, MINUTE, i), [{ start, end: start + BATCH * MINUTE }])] };
}

describe("storage daemon lifecycle", () => {
  it("after kill -9 in the middle of a stream of writes, holds whole batches only, no duplicates, coverage matching the rows", async () => {
    const dataDir = dir();
    const d = await start(dataDir);
    // Keep three writes in flight so the kill lands while the daemon is inside a transaction.
    let acked = 0;
    let next = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (acked < 6) {
      while (inFlight.size < 3) {
        const p: Promise<unknown> = d.client.writeCandles(batch(next++)).then(() => {
          acked++;
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
    d.child.kill("SIGKILL");
    expect(await d.exited).toBe("SIGKILL");
    await Promise.allSettled(inFlight);

    const again = await start(dataDir);
    const { rows } = await readAll(again.client, { market: "KRW-CRASH", startMs: 0n, endMs: BigInt(T0 + next * BATCH * MINUTE) });
    // Every acknowledged write survived; whatever else landed is whole batches.
    expect(rows.length % BATCH).toBe(0);
    expect(rows.length).toBeGreaterThanOrEqual(acked * BATCH);
    expect(rows.length).toBeLessThanOrEqual(next * BATCH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.time).toBeGreaterThan(rows[i - 1]!.time);
    // Batches are dense, so coverage must be exactly the minutes holding rows.
    const coverage = await again.client.getMissing({ market: "KRW-CRASH", timeframe: Timeframe.MINUTE_1, startMs: BigInt(T0), endMs: BigInt(T0 + next * BATCH * MINUTE) });
    const coveredMinutes = coverage.covered.reduce((n, iv) => n + Number(iv.endMs - iv.startMs) / MINUTE, 0);
    expect(coveredMinutes).toBe(rows.length);
    for (const iv of coverage.covered) {
      const inside = rows.filter((r) => r.time >= Number(iv.startMs) && r.time < Number(iv.endMs)).length;
      expect(inside).toBe(Number(iv.endMs - iv.startMs) / MINUTE);
    }
    const stats = await again.client.stats({});
    expect(Number(stats.series[0]?.rows)).toBe(rows.length);
  });

  it("on SIGTERM finishes the write in progress, checkpoints and exits 0", async () => {
    const dataDir = dir();
    const d = await start(dataDir);
    // The second write is sent before the first is acknowledged, so it is queued in the daemon
    // when SIGTERM arrives.
    const first = d.client.writeCandles(batch(0));
    const second = d.client.writeCandles(batch(1));
    await first;
    d.child.kill("SIGTERM");
    await expect(second).resolves.toMatchObject({ inserted: BigInt(BATCH) });
    expect(await d.exited).toBe(0);
    const wal = join(dataDir, "candles.duckdb.wal");
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    daemons.splice(daemons.indexOf(d), 1);

    const again = await start(dataDir);
    const stats = await again.client.stats({});
    expect(Number(stats.series[0]?.rows)).toBe(2 * BATCH);
    expect(stats.series[0]?.coverageIntervals).toBe(1);
    expect(stats.walSizeBytes).toBe(0n);
    expect(stats.usedBlocks).toBeGreaterThan(0n);
    expect(stats.totalBlocks).toBe(stats.usedBlocks + stats.freeBlocks);
    expect(stats.databaseSizeBytes).toBeGreaterThanOrEqual(stats.usedBlocks * stats.blockSize);
  });

  it("expires realtime values after their kind's TTL", async () => {
    const d = await start(dir(), {
      env: { BACKBONE_CACHE_TICKER_TTL_MS: "300", BACKBONE_CACHE_ORDERBOOK_TTL_MS: "300", BACKBONE_CACHE_TRADES_TTL_MS: "60000" },
    });
    const market = "KRW-TTL";
    await d.client.putRealtime({
      tickers: [create(TickerSchema, { market, timestampMs: 1n })],
      orderbooks: [create(OrderbookSchema, { market, timestampMs: 1n })],
      trades: [create(TradeSchema, { market, sequentialId: 1n })],
    });
    const read = () => d.client.getRealtime({ tickerMarkets: [market], orderbookMarkets: [market], tradeMarkets: [market] });
    const fresh = await read();
    expect([fresh.tickers.length, fresh.orderbooks.length, fresh.trades.length]).toEqual([1, 1, 1]);
    // Expiry is a matter of time passing; there is no event to wait for.
    await delay(400);
    const later = await read();
    expect([later.tickers.length, later.orderbooks.length, later.trades.length]).toEqual([0, 0, 1]);
  });

  it("listens on a unix socket", async () => {
    const dataDir = dir();
    const d = await start(dataDir, { listen: `unix:${join(dataDir, "storage.sock")}` });
    expect(d.address).toBe(`unix:${join(dataDir, "storage.sock")}`);
    await d.client.writeCandles({ segments: [segment("KRW-SOCK", makeCandles(T0, 10))] });
    const { rows } = await readAll(d.client, { market: "KRW-SOCK", startMs: 0n, endMs: BigInt(T0 + 10 * MINUTE) });
    expect(rows).toHaveLength(10);
  });

  it.each(["0.0.0.0:0", "192.168.1.1:50052", "unix:relative.sock"])("refuses to listen on %s and exits 1", async (listen) => {
    await expect(start(dir(), { listen })).rejects.toThrow(/daemon exited \(1\)[\s\S]*--listen/);
  });

  it("exits 1 with a clear message for a bad setting", async () => {
    await expect(start(dir(), { env: { BACKBONE_CACHE_TICKER_TTL_MS: "soon" } })).rejects.toThrow(
      /BACKBONE_CACHE_TICKER_TTL_MS="soon": must be a positive integer/,
    );
  });
});
