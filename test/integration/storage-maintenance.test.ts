/**
 * Storage maintenance against the real daemon process: retention (candles, coverage and cached
 * tails go together, and stay gone across a restart), compaction (row for row the same data,
 * coverage unchanged, a read that spans it answered in full), the timers, and the Stats fields.
 */
import { createInterface } from "node:readline";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { type CandleColumns, concatColumns, rowsFromColumns } from "../../src/shared/candle-columns.js";
import { columnsFromWire } from "../../src/shared/candle-columns-wire.js";
import { bucketStart, DAY_MS } from "../../src/shared/time.js";
import { DATABASE_FILE, DuckDBCandleStore } from "../../src/storage-daemon/duckdb-candle-store.js";
import { makeCandles, MINUTE, readAll, segment, T0 } from "../support/candles.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";

/** Timers off: every run in these tests is asked for with Maintain, so nothing waits on a clock. */
const MANUAL = { BACKBONE_MAINTENANCE_INTERVAL_MS: "0", BACKBONE_CHECKPOINT_INTERVAL_MS: "0" };
const KEEP_MS = 30 * DAY_MS;

const dirs: string[] = [];
const daemons: DaemonProcess[] = [];
afterEach(async () => {
  await Promise.all(daemons.splice(0).map(stopDaemon));
});
afterAll(() => dirs.forEach(removeDir));

async function daemon(dir: string, env: Record<string, string>): Promise<DaemonProcess> {
  const d = await startDaemon(dir, { env });
  daemons.push(d);
  return d;
}

function newDir(): string {
  const dir = tempDir("mdb-maint-");
  dirs.push(dir);
  return dir;
}

/** Every stored candle of a series, as one set of columns. */
async function readColumns(d: DaemonProcess, market: string, timeframe = Timeframe.MINUTE_1): Promise<CandleColumns> {
  const parts: CandleColumns[] = [];
  for await (const m of d.client.readCandles({ market, timeframe, startMs: 0n, endMs: BigInt(Date.now()), batchSize: 65_536 })) {
    parts.push(columnsFromWire(m.candles, "candles"));
  }
  return concatColumns(parts);
}

/** Column by column byte equality: a million rows compared without building a million objects. */
function expectSameColumns(actual: CandleColumns, expected: CandleColumns): void {
  expect(actual.time.length).toBe(expected.time.length);
  for (const k of Object.keys(expected) as (keyof CandleColumns)[]) {
    expect(Buffer.from(actual[k].buffer, actual[k].byteOffset, actual[k].byteLength).equals(Buffer.from(expected[k].buffer, expected[k].byteOffset, expected[k].byteLength)), k).toBe(true);
  }
}

const times = (c: CandleColumns) => Array.from(c.time, Number);

describe("retention", () => {
  it("deletes candles older than the rule with their coverage and cached tail, and only for that timeframe", async () => {
    const dir = newDir();
    const d = await daemon(dir, { ...MANUAL, BACKBONE_RETENTION: "1m=30d" });
    const recentStart = bucketStart("1m", Date.now() - 2 * DAY_MS);
    const old = makeCandles(T0, 500);
    const recent = makeCandles(recentStart, 100, MINUTE, 2);
    await d.client.writeCandles({
      segments: [
        segment("KRW-RET", old, [{ start: T0, end: T0 + 500 * MINUTE }]),
        segment("KRW-RET", recent, [{ start: recentStart, end: recentStart + 100 * MINUTE }]),
        // No rule for 3m: kept whatever its age.
        segment("KRW-RET", makeCandles(T0, 100, 3 * MINUTE), [{ start: T0, end: T0 + 300 * MINUTE }], Timeframe.MINUTE_3),
      ],
    });
    // Load the series' tail: the latest 200 reach back into 2024.
    const end = BigInt(recentStart + DAY_MS);
    const latest = async () => columnsFromWire((await d.client.getLatestCandles({ market: "KRW-RET", timeframe: Timeframe.MINUTE_1, endMs: end, count: 200 })).candles, "candles");
    expect(times(await latest())).toEqual([...times(old).slice(-100), ...times(recent)]);

    const before = Date.now();
    const run = await d.client.maintain({});
    const after = Date.now();
    expect(run).toMatchObject({ retentionDeletedRows: 500n, compacted: false, checkpointed: true });
    expect(run.detail).toMatch(/^retention: deleted 500 candles \(1m before \d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z\); compaction: not needed/);

    expect(rowsFromColumns(await readColumns(d, "KRW-RET"))).toEqual(rowsFromColumns(recent));
    expect(times(await latest())).toEqual(times(recent)); // the cached tail lost the old rows too
    const gone = await d.client.getMissing({ market: "KRW-RET", timeframe: Timeframe.MINUTE_1, startMs: BigInt(T0), endMs: BigInt(T0 + 500 * MINUTE) });
    expect(gone.covered).toEqual([]);
    expect(gone.missing.map((i) => [Number(i.startMs), Number(i.endMs)])).toEqual([[T0, T0 + 500 * MINUTE]]);
    expect(gone.retentionKeepMs).toBe(BigInt(KEEP_MS));
    const kept = await d.client.getMissing({ market: "KRW-RET", timeframe: Timeframe.MINUTE_1, startMs: BigInt(recentStart), endMs: BigInt(recentStart + 100 * MINUTE) });
    expect(kept.missing).toEqual([]);
    const other = await d.client.getMissing({ market: "KRW-RET", timeframe: Timeframe.MINUTE_3, startMs: BigInt(T0), endMs: BigInt(T0 + 300 * MINUTE) });
    expect(other).toMatchObject({ missing: [], retentionKeepMs: 0n });
    expect((await readColumns(d, "KRW-RET", Timeframe.MINUTE_3)).time.length).toBe(100);

    const stats = await d.client.stats({});
    expect(stats).toMatchObject({ retentionDeletedRows: 500n, lastMaintenanceDetail: run.detail, lastCompactionMs: 0n });
    expect(Number(stats.lastMaintenanceMs)).toBeGreaterThanOrEqual(before);
    expect(stats.retention).toHaveLength(1);
    const rule = stats.retention[0]!;
    expect(rule).toMatchObject({ timeframe: Timeframe.MINUTE_1, keepMs: BigInt(KEEP_MS) });
    expect(Number(rule.horizonMs)).toBeGreaterThanOrEqual(bucketStart("1m", before - KEEP_MS));
    expect(Number(rule.horizonMs)).toBeLessThanOrEqual(bucketStart("1m", after - KEEP_MS));

    // Old candles written again (the gateway refetching them) are stored, and the next run deletes them again.
    await d.client.writeCandles({ segments: [segment("KRW-RET", makeCandles(T0, 10), [{ start: T0, end: T0 + 10 * MINUTE }])] });
    expect((await readColumns(d, "KRW-RET")).time.length).toBe(110);
    expect((await d.client.maintain({})).retentionDeletedRows).toBe(10n);
    expect((await d.client.stats({})).retentionDeletedRows).toBe(510n);

    // All of it was committed to the file, coverage included.
    await stopDaemon(daemons.pop()!);
    const again = await daemon(dir, MANUAL);
    expect(rowsFromColumns(await readColumns(again, "KRW-RET"))).toEqual(rowsFromColumns(recent));
    const reopened = await again.client.getMissing({ market: "KRW-RET", timeframe: Timeframe.MINUTE_1, startMs: BigInt(T0), endMs: BigInt(recentStart + 100 * MINUTE) });
    expect(reopened.covered.map((i) => [Number(i.startMs), Number(i.endMs)])).toEqual([[recentStart, recentStart + 100 * MINUTE]]);
    expect(reopened.retentionKeepMs).toBe(0n); // no rule configured this time
    expect((await again.client.stats({})).retentionDeletedRows).toBe(0n); // counted since start
  });

  it("runs on the daemon's own timer", async () => {
    const d = await daemon(newDir(), { BACKBONE_RETENTION: "1m=30d", BACKBONE_MAINTENANCE_INTERVAL_MS: "50", BACKBONE_LOG_LEVEL: "info" });
    const deletedLogged = new Promise<string>((resolve) => {
      createInterface({ input: d.child.stderr! }).on("line", (line) => {
        if (/"message":"storage maintenance".*retention: deleted [1-9]/.test(line)) resolve(line);
      });
    });
    await d.client.writeCandles({ segments: [segment("KRW-TIMER", makeCandles(T0, 25), [{ start: T0, end: T0 + 25 * MINUTE }])] });
    expect(await deletedLogged).toContain("retention: deleted 25 candles");
    const stats = await d.client.stats({});
    expect(stats.retentionDeletedRows).toBe(25n);
    expect(stats.lastMaintenanceMs).toBeGreaterThan(0n);
    expect((await readColumns(d, "KRW-TIMER")).time.length).toBe(0);
  });

  it("refuses to start with a malformed rule, naming the entry", async () => {
    await expect(startDaemon(newDir(), { env: { BACKBONE_RETENTION: "1m=30d,1x=7d" } })).rejects.toThrow(
      /BACKBONE_RETENTION="1m=30d,1x=7d": entry "1x=7d": unknown timeframe "1x"/,
    );
  });
});

describe("compaction", () => {
  it("rewrites the candle table with the same rows and coverage, while a read that began before it goes on", async () => {
    const dir = newDir();
    const d = await daemon(dir, { ...MANUAL, BACKBONE_RETENTION: "1s=30d" });
    // Series written interleaved in batches, as the gateway writes them, so each of DuckDB's row
    // groups holds rows of all of them; then retention deletes the 1s series, leaving every row
    // group part deleted: blocks that only a rewrite gives back.
    const sizes: [string, number][] = [["KRW-BIG", 800_000], ["KRW-A", 100_000]];
    const ROUNDS = 8;
    for (let r = 0; r < ROUNDS; r++) {
      const seconds = 50_000;
      const oldStart = T0 + r * seconds * 1000;
      await d.client.writeCandles({
        segments: [
          ...sizes.map(([market, n]) => {
            const per = n / ROUNDS;
            const start = T0 + r * per * MINUTE;
            return segment(market, makeCandles(start, per, MINUTE, r), [{ start, end: start + per * MINUTE }]);
          }),
          segment("KRW-OLD", makeCandles(oldStart, seconds, 1000, r), [{ start: oldStart, end: oldStart + seconds * 1000 }], Timeframe.SECOND_1),
        ],
      });
    }
    expect((await d.client.maintain({})).retentionDeletedRows).toBe(400_000n);
    const snapshot = new Map<string, CandleColumns>();
    for (const [market] of sizes) snapshot.set(market, await readColumns(d, market));
    const coverage = async () =>
      Promise.all(sizes.map(async ([market]) => (await d.client.getMissing({ market, timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(Date.now()) })).covered));
    const coverageBefore = await coverage();
    const statsBefore = await d.client.stats({});

    // A read of 800,000 candles (45 MB) is held mid-way by flow control while the table is rewritten.
    const held = d.client.readCandles({ market: "KRW-BIG", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(Date.now()), batchSize: 2048 })[Symbol.asyncIterator]();
    const first = await held.next();
    expect(first.done).toBe(false);

    // Reads started while the rewrite runs are answered with the same rows.
    let settled = false;
    const maintained = d.client.maintain({ forceCompaction: true }).finally(() => (settled = true));
    const a = snapshot.get("KRW-A")!;
    const readsDuring = (async () => {
      let n = 0;
      do {
        const { rows } = await readAll(d.client, { market: "KRW-A", startMs: BigInt(T0 + 1000 * MINUTE), endMs: BigInt(T0 + 1100 * MINUTE) });
        expect(rows.map((r) => r.time)).toEqual(times(a).slice(1000, 1100));
        n++;
      } while (!settled);
      return n;
    })();
    // A write during the rewrite lands, and is in the table the swap puts in place.
    const written = makeCandles(T0, 1000, MINUTE, 5);
    await d.client.writeCandles({ segments: [segment("KRW-NEW", written, [{ start: T0, end: T0 + 1000 * MINUTE }])] });
    const run = await maintained;
    await readsDuring;
    expect(run.compacted).toBe(true);
    expect(run.detail).toMatch(/compaction \(forced\): rewrote 90\d,\d{3} candles in [\d,]+ ms, writes waited [\d,]+ ms for the swap \((0|1,000) candles written meanwhile carried over\); free blocks/);
    // The held read still needs the old table, so DuckDB defers the checkpoint rather than wait for it.
    expect(run.checkpointed).toBe(false);

    const rest: CandleColumns[] = [columnsFromWire(first.value!.candles, "candles")];
    for (let m = await held.next(); !m.done; m = await held.next()) rest.push(columnsFromWire(m.value.candles, "candles"));
    expectSameColumns(concatColumns(rest), snapshot.get("KRW-BIG")!);

    const afterRead = await d.client.maintain({});
    expect(afterRead).toMatchObject({ compacted: false, checkpointed: true });

    for (const [market] of sizes) expectSameColumns(await readColumns(d, market), snapshot.get(market)!);
    expectSameColumns(await readColumns(d, "KRW-NEW"), written);
    expect(await coverage()).toEqual(coverageBefore);
    const stats = await d.client.stats({});
    expect(stats.series.filter((x) => x.market !== "KRW-NEW")).toEqual(statsBefore.series);
    expect(stats.lastCompactionMs).toBeGreaterThan(0n);
    // The deleted rows no longer occupy blocks. (The old table's blocks stay in the file as free
    // ones, reused by later writes: DuckDB only gives back free blocks at the end of the file.)
    expect(stats.usedBlocks).toBeLessThan(statsBefore.usedBlocks);
    expect(stats.totalBlocks).toBe(stats.usedBlocks + stats.freeBlocks);

    // On disk the table is now in (market, timeframe, time) order.
    await stopDaemon(daemons.pop()!);
    const instance = await DuckDBInstance.create(`${dir}/${DATABASE_FILE}`, { access_mode: "READ_ONLY" });
    try {
      const conn = await instance.connect();
      const ordered = await conn.runAndReadAll(
        `SELECT count(*) FILTER (WHERE NOT ok) FROM (
           SELECT (s.market, s.timeframe, c.ts) > lag((s.market, s.timeframe, c.ts)) OVER (ORDER BY c.rowid) AS ok
             FROM candles c JOIN series s ON c.series = s.id) WHERE ok IS NOT NULL`,
      );
      expect(Number(ordered.getRows()[0]![0])).toBe(0);
      conn.closeSync();
    } finally {
      instance.closeSync();
    }
  });

  it("is not held back by a read that stopped early: the daemon ends the half-read query", async () => {
    const store = await DuckDBCandleStore.open(newDir());
    try {
      await store.write([{ market: "KRW-S", timeframe: "1m", candles: makeCandles(T0, 100_000), verified: [] }]);
      const reads = store.read("KRW-S", "1m", 0, T0 + 100_000 * MINUTE, { batchSize: 1000 });
      expect((await reads.next()).done).toBe(false);
      // While that read is open, DuckDB refuses the checkpoint after a rewrite...
      await store.compact();
      expect(await store.checkpoint()).toBe(false);
      // ...and once the reader gives up, it goes ahead.
      await reads.return(undefined);
      expect(await store.checkpoint()).toBe(true);
      await store.compact();
      expect(await store.checkpoint()).toBe(true);
      let n = 0;
      for await (const b of store.read("KRW-S", "1m", 0, T0 + 100_000 * MINUTE)) n += b.time.length;
      expect(n).toBe(100_000);
    } finally {
      await store.close();
    }
  });

  it("carries over what was written and deleted while it copied, so writes need not wait for the copy", async () => {
    const store = await DuckDBCandleStore.open(newDir());
    const everything = async () => {
      const out: Record<string, unknown> = {};
      for (const [market, tf] of [["KRW-A", "1m"], ["KRW-B", "5m"], ["KRW-C", "1m"]] as const) {
        const rows = [];
        for await (const b of store.read(market, tf, 0, T0 + 1000 * DAY_MS)) rows.push(...rowsFromColumns(b));
        out[`${market} ${tf}`] = { rows, coverage: store.missing(market, tf, 0, T0 + 1000 * DAY_MS).covered };
      }
      return out;
    };
    try {
      for (let r = 0; r < 5; r++) {
        await store.write([
          { market: "KRW-A", timeframe: "1m", candles: makeCandles(T0 + r * 10_000 * MINUTE, 10_000, MINUTE, r), verified: [{ start: T0 + r * 10_000 * MINUTE, end: T0 + (r + 1) * 10_000 * MINUTE }] },
          { market: "KRW-B", timeframe: "5m", candles: makeCandles(T0 + r * 10_000 * 5 * MINUTE, 10_000, 5 * MINUTE, r), verified: [] },
        ]);
      }
      // A write racing the start of the copy: in the snapshot or carried over, never lost.
      const [pending] = await Promise.all([
        store.startCompaction(),
        store.write([{ market: "KRW-A", timeframe: "1m", candles: makeCandles(T0 + 50_000 * MINUTE, 100, MINUTE, 7), verified: [] }]),
      ]);
      await expect(store.startCompaction()).rejects.toThrow("a compaction is running already");
      // Between the copy and the swap: an upsert over old rows, new rows, a new series, retention.
      await store.write([
        { market: "KRW-A", timeframe: "1m", candles: makeCandles(T0 + 5_000 * MINUTE, 2_000, MINUTE, 42), verified: [] },
        { market: "KRW-A", timeframe: "1m", candles: makeCandles(T0 + 60_000 * MINUTE, 500, MINUTE, 3), verified: [{ start: T0 + 60_000 * MINUTE, end: T0 + 60_500 * MINUTE }] },
        { market: "KRW-C", timeframe: "1m", candles: makeCandles(T0, 300), verified: [{ start: T0, end: T0 + 300 * MINUTE }] },
      ]);
      expect(await store.deleteOlderThan(new Map([["5m", T0 + 20_000 * 5 * MINUTE]]))).toBe(20_000);
      const before = await everything();
      const result = await pending.finish();
      expect([100_000, 100_100]).toContain(result.copied);
      // The racing write is noted whichever side of the snapshot it fell: carried over, harmlessly, again.
      expect(result.carried).toBe(100 + 2_000 + 500 + 300);
      expect(await everything()).toEqual(before);
      expect(await store.checkpoint()).toBe(true);
      // Once finished, the next one may start.
      expect((await store.compact()).carried).toBe(0);
      expect(await everything()).toEqual(before);
    } finally {
      await store.close();
    }
  });
});
