import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../src/shared/logger.js";
import type { Timeframe } from "../../../src/shared/timeframe.js";
import type { StorageFigures } from "../../../src/storage-daemon/candle-table-sql.js";
import type { CompactionResult } from "../../../src/storage-daemon/duckdb-candle-store.js";
import { compactionDue, type MaintainableStore, type MaintenanceOptions, StoreMaintenance } from "../../../src/storage-daemon/store-maintenance.js";

const MIB = 1024 * 1024;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 15, 12, 34, 56, 789);

function figures(free: number, total: number, bytes = 256 * MIB): StorageFigures {
  return { databaseSizeBytes: bytes, walSizeBytes: 0, blockSize: 262_144, totalBlocks: total, usedBlocks: total - free, freeBlocks: free };
}

/** A store whose figures the test sets, recording what maintenance asked of it. */
class FakeStore implements MaintainableStore {
  figures = figures(0, 100);
  /** Figures after a compaction. */
  compactedFigures = figures(10, 100);
  deleted = 0;
  checkpointDone = true;
  readonly calls: string[] = [];
  readonly cutoffs: Map<Timeframe, number>[] = [];
  gate: Promise<void> | undefined;
  onCompactStart: (() => void) | undefined;
  failNext: Error | undefined;

  async storageFigures(): Promise<StorageFigures> {
    return this.figures;
  }
  async deleteOlderThan(cutoffs: ReadonlyMap<Timeframe, number>): Promise<number> {
    this.calls.push("retention");
    this.cutoffs.push(new Map(cutoffs));
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    return this.deleted;
  }
  async compact(): Promise<CompactionResult> {
    this.calls.push("compact:start");
    this.onCompactStart?.();
    await this.gate;
    this.calls.push("compact:end");
    this.figures = this.compactedFigures;
    return { copied: 1234, carried: 5, swapMs: 7 };
  }
  async checkpoint(): Promise<boolean> {
    this.calls.push("checkpoint");
    return this.checkpointDone;
  }
}

const OPTIONS: MaintenanceOptions = {
  checkpointIntervalMs: 0,
  maintenanceIntervalMs: 0,
  compactFreeRatio: 0.3,
  compactMinBytes: 64 * MIB,
  retention: new Map(),
};

function maintenance(store: FakeStore, options: Partial<MaintenanceOptions> = {}, now = () => NOW) {
  return new StoreMaintenance(store, { ...OPTIONS, ...options }, now, silentLogger);
}

describe("compaction trigger", () => {
  it("needs the free share above the ratio, a file at least the minimum size, and to be armed", () => {
    const o = { compactFreeRatio: 0.3, compactMinBytes: 64 * MIB };
    expect(compactionDue(figures(31, 100), o, true)).toBe(true);
    expect(compactionDue(figures(30, 100), o, true)).toBe(false);
    expect(compactionDue(figures(31, 100, 64 * MIB - 1), o, true)).toBe(false);
    expect(compactionDue(figures(31, 100), o, false)).toBe(false);
    expect(compactionDue(figures(0, 0), o, true)).toBe(false);
  });
});

describe("store maintenance", () => {
  afterEach(() => vi.useRealTimers());

  it("applies retention at bucket-aligned cutoffs and counts what it deleted", async () => {
    const store = new FakeStore();
    store.deleted = 40;
    const m = maintenance(store, { retention: new Map([["1s", 7 * DAY], ["1m", 365 * DAY]]) });
    expect(m.status().retention).toEqual([
      { timeframe: "1s", keepMs: 7 * DAY, horizonMs: 0 },
      { timeframe: "1m", keepMs: 365 * DAY, horizonMs: 0 },
    ]);
    const run = await m.run();
    expect(store.cutoffs[0]).toEqual(new Map([["1s", Date.UTC(2025, 5, 8, 12, 34, 56)], ["1m", Date.UTC(2024, 5, 15, 12, 34)]]));
    expect(run).toMatchObject({ retentionDeletedRows: 40, compacted: false, checkpointed: true });
    expect(run.detail).toMatch(/^retention: deleted 40 candles \(1s before 2025-06-08T12:34:56\.000Z, 1m before 2024-06-15T12:34:00\.000Z\); compaction: not needed .*; checkpoint: done$/);
    await m.run();
    expect(m.status()).toMatchObject({ retentionDeletedRows: 80, lastMaintenanceMs: NOW, lastMaintenanceDetail: run.detail, lastCompactionMs: 0 });
    expect(m.status().retention[0]!.horizonMs).toBe(Date.UTC(2025, 5, 8, 12, 34, 56));
    expect(m.keepMs("1s")).toBe(7 * DAY);
    expect(m.keepMs("1d")).toBe(0);
  });

  it("without rules, deletes nothing and says so", async () => {
    const store = new FakeStore();
    const run = await maintenance(store).run();
    expect(store.calls).toEqual(["checkpoint"]);
    expect(run.detail).toMatch(/^retention: none configured; compaction: not needed \(0 of 100 free, file 256\.0 MiB; threshold 30% of a file of at least 64\.0 MiB\); checkpoint: done$/);
  });

  it("compacts past the threshold, then waits for the free share to fall below it before compacting again", async () => {
    const store = new FakeStore();
    store.figures = figures(50, 100);
    store.compactedFigures = figures(40, 100); // a rewrite leaves the old table's blocks free
    let t = NOW;
    const m = maintenance(store, {}, () => t);
    const first = await m.run();
    expect(first.compacted).toBe(true);
    expect(first.detail).toMatch(
      /compaction: rewrote 1,234 candles in \d+ ms, writes waited 7 ms for the swap \(5 candles written meanwhile carried over\); free blocks 50 of 100 -> 40 of 100; file 256\.0 MiB -> 256\.0 MiB; checkpoint: done$/,
    );
    expect(store.calls).toEqual(["compact:start", "compact:end", "checkpoint"]);
    expect(m.status().lastCompactionMs).toBe(NOW);

    t += 1000;
    const second = await m.run();
    expect(second.compacted).toBe(false);
    expect(second.detail).toContain("waiting for the free share to fall below it after the last compaction");

    store.figures = figures(10, 100); // new writes reused the free blocks
    expect((await m.run()).compacted).toBe(false);
    store.figures = figures(35, 100); // deletes freed more
    expect((await m.run()).compacted).toBe(true);
    expect(m.status().lastCompactionMs).toBe(t);
  });

  it("leaves a file below the minimum size alone unless forced", async () => {
    const store = new FakeStore();
    store.figures = figures(90, 100, 10 * MIB);
    const m = maintenance(store);
    expect((await m.run()).compacted).toBe(false);
    const forced = await m.run(true);
    expect(forced.compacted).toBe(true);
    expect(forced.detail).toContain("compaction (forced): rewrote 1,234 candles");
  });

  it("reports a checkpoint that DuckDB deferred", async () => {
    const store = new FakeStore();
    store.checkpointDone = false;
    const run = await maintenance(store).run(true);
    expect(run.checkpointed).toBe(false);
    expect(run.detail).toMatch(/checkpoint: deferred \(reads that began before the change are still running; the next checkpoint does it\)$/);
  });

  it("records a failed run and keeps working", async () => {
    const store = new FakeStore();
    store.failNext = new Error("disk full");
    const m = maintenance(store, { retention: new Map([["1m", DAY]]) });
    await expect(m.run()).rejects.toThrow("disk full");
    expect(m.status()).toMatchObject({ lastMaintenanceMs: NOW, lastMaintenanceDetail: "failed: disk full" });
    expect((await m.run()).detail).toMatch(/^retention: deleted 0 candles/);
  });

  it("never overlaps runs, and stop waits for the one in progress", async () => {
    const store = new FakeStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const started = new Promise<void>((resolve) => (store.onCompactStart = resolve));
    const m = maintenance(store);
    const first = m.run(true);
    const second = m.run(true);
    const stopped = m.stop();
    await started;
    expect(store.calls).toEqual(["compact:start"]);
    open();
    await Promise.all([first, second, stopped]);
    expect(store.calls).toEqual(["compact:start", "compact:end", "checkpoint", "compact:start", "compact:end", "checkpoint"]);
  });

  it("runs the periodic checkpoint and maintenance on their timers, and stops them", async () => {
    vi.useFakeTimers();
    const store = new FakeStore();
    const m = maintenance(store, { checkpointIntervalMs: 1000, maintenanceIntervalMs: 5000 });
    m.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(store.calls).toEqual(["checkpoint", "checkpoint", "checkpoint"]);
    expect(m.status().lastMaintenanceMs).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.calls.length).toBe(6); // 5 periodic checkpoints, 1 run's checkpoint
    expect(m.status().lastMaintenanceDetail).toMatch(/^retention: none configured/);
    await m.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.calls.length).toBe(6);
  });
});
