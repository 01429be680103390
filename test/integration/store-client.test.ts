/** The gateway's StoreClient against a real daemon process: domain calls, and the daemon's absence. */
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreClient, StoreUnavailableError } from "../../src/gateway/store-client.js";
import { rowsFromColumns } from "../../src/shared/candle-columns.js";
import { MAX_LATEST_CANDLES } from "../../src/shared/storage-limits.js";
import { makeCandles, MINUTE, T0 } from "../support/candles.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";

describe("StoreClient", () => {
  let dir: string;
  let daemon: DaemonProcess;
  let store: StoreClient;
  const n = MAX_LATEST_CANDLES + 5_000;
  beforeAll(async () => {
    dir = tempDir();
    daemon = await startDaemon(dir);
    store = new StoreClient(daemon.address);
    await store.write([{ market: "KRW-BTC", timeframe: "1m", candles: makeCandles(T0, n), verified: [{ start: T0, end: T0 + n * MINUTE }] }]);
  });
  afterAll(async () => {
    store.close();
    await stopDaemon(daemon);
    removeDir(dir);
  });

  it("answers latest-N beyond one unary answer's cap by streaming the range", async () => {
    const count = MAX_LATEST_CANDLES + 1_000;
    const rows = rowsFromColumns(await store.latest("KRW-BTC", "1m", T0, T0 + n * MINUTE, count));
    expect(rows).toHaveLength(count);
    expect(rows[0]!.time).toBe(T0 + (n - count) * MINUTE);
    expect(rows.at(-1)!.time).toBe(T0 + (n - 1) * MINUTE);
    expect(rowsFromColumns(await store.latest("KRW-BTC", "1m", T0, T0 + n * MINUTE, 10)).map((r) => r.time)).toEqual(rows.slice(-10).map((r) => r.time));
  });

  it("reports coverage and reads ranges in domain terms", async () => {
    expect(await store.missing("KRW-BTC", "1m", T0 - 10 * MINUTE, T0 + 10 * MINUTE)).toEqual({
      missing: [{ start: T0 - 10 * MINUTE, end: T0 }],
      covered: [{ start: T0, end: T0 + 10 * MINUTE }],
      // This daemon has no retention: it keeps everything.
      retentionKeepMs: 0,
    });
    const parts = await store.read("KRW-BTC", "1m", T0, T0 + 100 * MINUTE);
    expect(parts.flatMap(rowsFromColumns).map((r) => r.time)).toEqual(Array.from({ length: 100 }, (_, i) => T0 + i * MINUTE));
  });

  it("leaves no abort listener behind on a long-lived signal once calls settle", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) {
      await store.missing("KRW-BTC", "1m", T0, T0 + MINUTE, { signal: controller.signal });
      await store.read("KRW-BTC", "1m", T0, T0 + 10 * MINUTE, { signal: controller.signal });
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("turns an absent daemon into StoreUnavailableError", async () => {
    const absent = new StoreClient(`unix:${dir}/nobody-listens.sock`);
    try {
      await expect(absent.missing("KRW-BTC", "1m", T0, T0 + MINUTE)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      absent.close();
    }
  });
});
