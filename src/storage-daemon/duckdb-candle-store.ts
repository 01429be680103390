import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type DuckDBConnection, type DuckDBDataChunk, DuckDBInstance, type DuckDBPreparedStatement, type DuckDBResult } from "@duckdb/node-api";
import { allocateColumns, type CandleColumns, copyColumns, sliceColumns } from "../shared/candle-columns.js";
import { UnavailableError } from "../shared/errors.js";
import { type Interval, intersect, subtract, union } from "../shared/intervals.js";
import { addBuckets, bucketCount } from "../shared/time.js";
import { type Timeframe, isTimeframe } from "../shared/timeframe.js";
import { BatchPool } from "./batch-pool.js";
import {
  copyCandleTable,
  deleteCandlesBefore,
  dropUnfinishedRewrite,
  EARLIEST_MS,
  replaceCoverage,
  type StorageFigures,
  storageFigures,
  swapInCandleTable,
  tryCheckpoint,
} from "./candle-table-sql.js";
import type { CandleSegment } from "./candle-validation.js";
import { CoverageIndex } from "./coverage-index.js";
import { appendCandles, copyCandleChunk } from "./duckdb-vectors.js";
import { migrate } from "./migrations.js";
import { SerialQueue } from "./serial-queue.js";
import { SeriesTailCache, TAIL_ROWS } from "./series-tail-cache.js";

/** File name of the candle database inside the data directory. */
export const DATABASE_FILE = "candles.duckdb";
/** Candles per batch of a range read unless the caller asks otherwise. */
export const DEFAULT_READ_BATCH = 32_768;
/** Most candles per batch of a range read; bounds one gRPC message to ~3.5 MB. */
export const MAX_READ_BATCH = 65_536;
/**
 * WAL size that triggers an automatic checkpoint. DuckDB's 16 MB made bulk ingest stall on a
 * checkpoint every few hundred thousand candles; a crash replays at most this much WAL on start.
 */
const CHECKPOINT_THRESHOLD = "256MB";
/** Idle read connections kept open for reuse. */
const READ_POOL_SIZE = 4;

/** A series' candles of `[$2, $3)` in time order, as range reads ask for them (benchmarks scan with it too). */
export const RANGE_SQL = `SELECT ts, open, high, low, close, volume, quote_volume FROM candles
  WHERE series = $1 AND ts >= $2 AND ts < $3 ORDER BY ts`;

export interface WriteResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface SeriesStats {
  market: string;
  timeframe: Timeframe;
  rows: number;
  firstTimeMs: number;
  lastTimeMs: number;
  coverageIntervals: number;
}

export interface StoreStats extends StorageFigures {
  series: SeriesStats[];
}

export type { StorageFigures } from "./candle-table-sql.js";

/** What a compaction did. */
export interface CompactionResult {
  /** Candles copied in order from the table as it was when the copy began. */
  copied: number;
  /** Candles written or deleted during the copy, carried over in the swap. */
  carried: number;
  /** How long the swap held the single writer: all that writes waited for, ms. */
  swapMs: number;
}

/** A compaction whose copy is done; `finish` swaps it in. See `DuckDBCandleStore.startCompaction`. */
export interface PendingCompaction {
  readonly copied: number;
  finish(): Promise<CompactionResult>;
}

export interface ReadOptions {
  /** Candles per yielded batch; default DEFAULT_READ_BATCH, at most MAX_READ_BATCH. */
  batchSize?: number;
  /** When > 0, the first batch holds at most this many candles (at most `batchSize`). */
  firstBatchSize?: number;
  /** Only the `lastN` most recent candles of the range, still yielded ascending. */
  lastN?: number;
  /** Stops the scan between batches. */
  signal?: AbortSignal;
}

interface Series {
  readonly id: number;
  readonly market: string;
  readonly timeframe: Timeframe;
  /** Oldest and newest stored candle time, or undefined while the series has no rows. */
  extent: { min: number; max: number } | undefined;
  /** Committed writes so far: a tail loaded across a write is stale and not kept. */
  version: number;
}

const seriesKey = (market: string, tf: Timeframe) => `${market}|${tf}`;

/**
 * Candles of every (market, timeframe) in one DuckDB file, with the coverage index beside them.
 *
 * Writes go through one connection in arrival order (the single writer); each write request is
 * one transaction holding its candles and their coverage, so a crash leaves whole requests only.
 * Reads use their own connections and see committed data.
 *
 * Rows are kept unique per (series, time) by the writer rather than by a PRIMARY KEY: the key's
 * index halves ingest and is not used by range scans (LIMITS.md), while zone maps on time are.
 */
export class DuckDBCandleStore {
  private readonly series = new Map<string, Series>();
  private readonly seriesById = new Map<number, Series>();
  private readonly idleReaders: ReadConnection[] = [];
  private readonly writes = new SerialQueue();
  private readonly tails = new SeriesTailCache();
  /** Column sets of range-read batches: hand each back (giveBack) once nothing reads it any more. */
  readonly batches = new BatchPool();
  /** While a compaction copies: per series, the time ranges changed since its snapshot. */
  private rewriteChanges: Map<number, Interval[]> | undefined;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly path: string,
    readonly coverage: CoverageIndex,
  ) {}

  /** Opens (creating and migrating as needed) the store in `dataDir`. */
  /** `memoryLimit` bounds DuckDB's block cache, which otherwise grows with what is read up to 80 % of RAM. */
  static async open(dataDir: string, options: { memoryLimit?: string } = {}): Promise<DuckDBCandleStore> {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, DATABASE_FILE);
    const instance = await DuckDBInstance.create(path, {
      checkpoint_threshold: CHECKPOINT_THRESHOLD,
      ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
    });
    let writer: DuckDBConnection | undefined;
    try {
      writer = await instance.connect();
      await migrate(writer);
      await dropUnfinishedRewrite(writer);
      await writer.run("CREATE TEMP TABLE staging AS SELECT * FROM candles LIMIT 0");
      const store = new DuckDBCandleStore(instance, writer, path, new CoverageIndex());
      await store.load();
      return store;
    } catch (e) {
      writer?.closeSync();
      instance.closeSync();
      throw e;
    }
  }

  private async load(): Promise<void> {
    const series = await this.writer.runAndReadAll("SELECT id, market, timeframe FROM series");
    for (const [id, market, tf] of series.getRows()) {
      if (typeof tf !== "string" || !isTimeframe(tf)) throw new Error(`store holds unknown timeframe ${String(tf)}`);
      this.register({ id: Number(id), market: String(market), timeframe: tf, extent: undefined, version: 0 });
    }
    const extents = await this.writer.runAndReadAll("SELECT series, min(ts), max(ts) FROM candles GROUP BY series");
    for (const [id, min, max] of extents.getRows()) {
      const s = this.seriesById.get(Number(id));
      if (s) s.extent = { min: Number(min), max: Number(max) };
    }
    const coverage = await this.writer.runAndReadAll(
      "SELECT series, start_ms, end_ms FROM coverage ORDER BY series, start_ms",
    );
    const bySeries = new Map<number, Interval[]>();
    for (const [id, start, end] of coverage.getRows()) {
      const list = bySeries.get(Number(id)) ?? [];
      list.push({ start: Number(start), end: Number(end) });
      bySeries.set(Number(id), list);
    }
    for (const [id, list] of bySeries) {
      const s = this.seriesById.get(id);
      if (s) this.coverage.set(s.market, s.timeframe, list);
    }
  }

  private register(s: Series): void {
    this.series.set(seriesKey(s.market, s.timeframe), s);
    this.seriesById.set(s.id, s);
  }

  /**
   * Writes validated segments and their coverage in one transaction: all of it lands or none.
   * Writing candles that are already stored with the same values changes nothing.
   */
  write(segments: readonly CandleSegment[]): Promise<WriteResult> {
    return this.writes.run(() => this.writeNow(segments));
  }

  private async writeNow(segments: readonly CandleSegment[]): Promise<WriteResult> {
    this.assertOpen();
    const result: WriteResult = { inserted: 0, updated: 0, unchanged: 0 };
    // Changes to memory wait for the commit, so a rolled-back write leaves no trace there either.
    const created: Series[] = [];
    const written: [Series, CandleColumns][] = [];
    const extents = new Map<Series, { min: number; max: number }>();
    const coverage = new Map<Series, Interval[]>();
    let nextId = Math.max(0, ...this.seriesById.keys()) + 1;
    await this.writer.run("BEGIN TRANSACTION");
    try {
      for (const seg of segments) {
        let s = this.series.get(seriesKey(seg.market, seg.timeframe)) ?? created.find(
          (c) => c.market === seg.market && c.timeframe === seg.timeframe,
        );
        if (s === undefined) {
          s = { id: nextId++, market: seg.market, timeframe: seg.timeframe, extent: undefined, version: 0 };
          created.push(s);
          await this.writer.run("INSERT INTO series (id, market, timeframe) VALUES ($1, $2, $3)", [s.id, s.market, s.timeframe]);
        }
        const n = seg.candles.time.length;
        if (n > 0) {
          const min = Number(seg.candles.time[0]);
          const max = Number(seg.candles.time[n - 1]);
          const extent = extents.get(s) ?? s.extent;
          const counts = extent === undefined || max < extent.min || min > extent.max
            ? await this.appendNew(s.id, seg.candles)
            : await this.upsert(s.id, seg.candles, min, max);
          result.inserted += counts.inserted;
          result.updated += counts.updated;
          result.unchanged += counts.unchanged;
          extents.set(s, extent === undefined ? { min, max } : { min: Math.min(min, extent.min), max: Math.max(max, extent.max) });
          written.push([s, seg.candles]);
        }
        if (seg.verified.length > 0) {
          const before = coverage.get(s) ?? this.coverage.get(s.market, s.timeframe);
          const after = union(before, seg.verified);
          coverage.set(s, after);
          await replaceCoverage(this.writer, s.id, after);
        }
      }
      await this.writer.run("COMMIT");
    } catch (e) {
      await this.writer.run("ROLLBACK").catch(() => undefined);
      throw e;
    }
    for (const s of created) this.register(s);
    for (const [s, extent] of extents) s.extent = extent;
    for (const [s, list] of coverage) this.coverage.set(s.market, s.timeframe, list);
    for (const [s, candles] of written) {
      s.version++;
      this.tails.apply(s.id, candles);
      this.noteChange(s.id, Number(candles.time[0]), Number(candles.time[candles.time.length - 1]) + 1);
    }
    return result;
  }

  /** Candles known not to collide with stored ones go straight in: the appender's full speed. */
  private async appendNew(series: number, c: CandleColumns): Promise<WriteResult> {
    const appender = await this.writer.createAppender("candles");
    try {
      appendCandles(appender, series, c);
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    return { inserted: c.time.length, updated: 0, unchanged: 0 };
  }

  /** Candles that may overlap stored ones: replace those that differ, add those that are new. */
  private async upsert(series: number, c: CandleColumns, min: number, max: number): Promise<WriteResult> {
    const staging = await this.writer.createAppender("staging");
    try {
      appendCandles(staging, series, c);
      staging.flushSync();
    } finally {
      staging.closeSync();
    }
    try {
      const range = [series, BigInt(min), BigInt(max)];
      const updated = await this.writer.run(
        `UPDATE candles AS c SET open = s.open, high = s.high, low = s.low, close = s.close,
                volume = s.volume, quote_volume = s.quote_volume
           FROM staging AS s
          WHERE c.series = $1 AND c.ts BETWEEN $2 AND $3 AND c.series = s.series AND c.ts = s.ts
            AND (c.open, c.high, c.low, c.close, c.volume, c.quote_volume)
                IS DISTINCT FROM (s.open, s.high, s.low, s.close, s.volume, s.quote_volume)`,
        range,
      );
      const inserted = await this.writer.run(
        `INSERT INTO candles
         SELECT s.* FROM staging AS s
          WHERE NOT EXISTS (SELECT 1 FROM candles AS c
                             WHERE c.series = $1 AND c.ts BETWEEN $2 AND $3 AND c.ts = s.ts)`,
        range,
      );
      const n = c.time.length;
      return {
        inserted: inserted.rowsChanged,
        updated: updated.rowsChanged,
        unchanged: n - inserted.rowsChanged - updated.rowsChanged,
      };
    } finally {
      await this.writer.run("DELETE FROM staging");
    }
  }

  /** Coverage of `[start, end)` split into its missing and covered parts. */
  missing(market: string, tf: Timeframe, start: number, end: number): { missing: Interval[]; covered: Interval[] } {
    const covered = this.coverage.get(market, tf);
    const range = { start, end };
    return { missing: subtract(range, covered), covered: intersect(range, covered) };
  }

  /**
   * Stored candles of `[start, end)` in ascending time, in batches. Streams from DuckDB chunk by
   * chunk, so a read of any size holds one batch in memory at a time.
   */
  async *read(market: string, tf: Timeframe, start: number, end: number, options: ReadOptions = {}): AsyncGenerator<CandleColumns> {
    this.assertOpen();
    const s = this.series.get(seriesKey(market, tf));
    if (s === undefined || s.extent === undefined || end <= start) return;
    const batchSize = Math.min(MAX_READ_BATCH, Math.max(1, options.batchSize || DEFAULT_READ_BATCH));
    const firstSize = Math.min(batchSize, options.firstBatchSize || batchSize);
    if (options.lastN) {
      // A cached tail answers without touching DuckDB, not even to take a connection.
      const tail = this.tails.get(s.id);
      const cached = tail && SeriesTailCache.lastN(tail, start, end, options.lastN);
      if (cached) {
        yield* inBatches(cached, firstSize, batchSize);
        return;
      }
    }
    const reader = await this.acquireReader();
    // Only a result read to its end ends its DuckDB transaction. A connection still holding part
    // of one (even closed: the result keeps its context alive until collected) would keep old row
    // versions alive and defer every CHECKPOINT after an update, retention or compaction.
    let drained = false;
    try {
      if (options.lastN) {
        const last = (await this.lastFromTail(reader, s, start, end, options.lastN)) ??
          (await this.readLast(reader, s, start, end, options.lastN));
        drained = true;
        yield* inBatches(last, firstSize, batchSize);
        return;
      }
      const result = await reader.range(s.id, start, end);
      let size = firstSize;
      let batch = this.batches.take(size);
      let filled = 0;
      // DuckDB fetches the next chunk on its own threads while this one is copied and sent.
      let next: Promise<DuckDBDataChunk | null> | undefined = result.fetchChunk();
      try {
        for (;;) {
          const chunk: DuckDBDataChunk | null = await next;
          next = undefined;
          if (options.signal?.aborted) return;
          if (chunk === null || chunk.rowCount === 0) {
            drained = true;
            break;
          }
          next = result.fetchChunk();
          let offset = 0;
          while (offset < chunk.rowCount) {
            const n = Math.min(chunk.rowCount - offset, size - filled);
            copyCandleChunk(chunk, offset, n, batch, filled);
            offset += n;
            filled += n;
            if (filled === size) {
              yield batch;
              size = batchSize;
              batch = this.batches.take(size);
              filled = 0;
            }
          }
        }
      } finally {
        // A reader stopped early must not go back to the pool with a fetch still running on it.
        await next?.catch(() => undefined);
      }
      if (filled > 0) yield sliceColumns(batch, 0, filled);
    } finally {
      if (drained) this.releaseReader(reader);
      else await this.releaseAfterEarlyStop(reader);
    }
  }

  /**
   * The latest `n` candles from the series' cached tail, loading the tail first when the request
   * reaches the newest candle (what bots ask for); undefined when the tail cannot answer.
   */
  private async lastFromTail(reader: ReadConnection, s: Series, start: number, end: number, n: number): Promise<CandleColumns | undefined> {
    let tail = this.tails.get(s.id);
    if (tail === undefined && n <= TAIL_ROWS && s.extent !== undefined && end > s.extent.max) {
      const version = s.version;
      const rows = copyColumns(await this.readLast(reader, s, s.extent.min, s.extent.max + 1, TAIL_ROWS));
      if (version !== s.version) return undefined;
      tail = { start: rows.time.length < TAIL_ROWS ? -Infinity : Number(rows.time[0]), rows };
      this.tails.set(s.id, tail);
    }
    return tail && SeriesTailCache.lastN(tail, start, end, n);
  }

  /**
   * The latest `n` candles before `end`, found by scanning a window just wide enough: first the
   * `n` buckets before `end` (one query for a market that trades every bucket), then a window 4x
   * wider each time until `n` are found or the series' first candle is inside. Zone maps on time
   * keep each query to the row groups of its window.
   */
  private async readLast(reader: ReadConnection, s: Series, start: number, end: number, n: number): Promise<CandleColumns> {
    const first = Math.max(start, s.extent?.min ?? start);
    for (let span = n; ; span *= 4) {
      const lower = span >= bucketCount(s.timeframe, first, end) ? first : Math.max(first, addBuckets(s.timeframe, end - 1, 1 - span));
      const chunks = await (await reader.range(s.id, lower, end)).fetchAllChunks();
      const rows = chunks.reduce((sum, c) => sum + c.rowCount, 0);
      if (rows < n && lower > first) continue;
      const out = allocateColumns(Math.min(n, rows));
      let skip = rows - out.time.length;
      let at = 0;
      for (const chunk of chunks) {
        const from = Math.min(skip, chunk.rowCount);
        skip -= from;
        copyCandleChunk(chunk, from, chunk.rowCount - from, out, at);
        at += chunk.rowCount - from;
      }
      return out;
    }
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const reader = await this.acquireReader();
    try {
      const rows = await reader.connection.runAndReadAll(
        "SELECT series, count(*), min(ts), max(ts) FROM candles GROUP BY series ORDER BY series",
      );
      const series: SeriesStats[] = [];
      for (const [id, count, min, max] of rows.getRows()) {
        const s = this.seriesById.get(Number(id));
        if (s === undefined) continue;
        series.push({
          market: s.market,
          timeframe: s.timeframe,
          rows: Number(count),
          firstTimeMs: Number(min),
          lastTimeMs: Number(max),
          coverageIntervals: this.coverage.get(s.market, s.timeframe).length,
        });
      }
      return { series, ...(await storageFigures(reader.connection, this.path)) };
    } finally {
      this.releaseReader(reader);
    }
  }

  /** File size and blocks only: cheap, unlike `stats`, which counts every series' rows. */
  async storageFigures(): Promise<StorageFigures> {
    this.assertOpen();
    const reader = await this.acquireReader();
    try {
      return await storageFigures(reader.connection, this.path);
    } finally {
      this.releaseReader(reader);
    }
  }

  /**
   * Writes the WAL into the database file, through the single writer. Answers false when DuckDB
   * deferred it because a read that began before an update, delete or rewrite is still running.
   */
  checkpoint(): Promise<boolean> {
    return this.writes.run(() => {
      this.assertOpen();
      return tryCheckpoint(this.writer);
    });
  }

  /**
   * Retention: deletes the candles of every series of a timeframe in `cutoffs` older than its
   * cutoff, and the coverage before the cutoff with them, in one transaction, so a later request
   * for that time finds it missing and refetches it rather than taking the gap for empty buckets.
   * Cached tails drop the rows too. Answers the number of candles deleted.
   */
  deleteOlderThan(cutoffs: ReadonlyMap<Timeframe, number>): Promise<number> {
    return this.writes.run(() => this.deleteOlderThanNow(cutoffs));
  }

  private async deleteOlderThanNow(cutoffs: ReadonlyMap<Timeframe, number>): Promise<number> {
    this.assertOpen();
    const affected: { s: Series; cutoff: number; coverage: Interval[] | undefined }[] = [];
    for (const s of this.series.values()) {
      const cutoff = cutoffs.get(s.timeframe);
      if (cutoff === undefined) continue;
      const before = this.coverage.get(s.market, s.timeframe);
      const coverage = before.length > 0 && before[0]!.start < cutoff ? intersect({ start: cutoff, end: Infinity }, before) : undefined;
      if ((s.extent !== undefined && s.extent.min < cutoff) || coverage !== undefined) affected.push({ s, cutoff, coverage });
    }
    if (affected.length === 0) return 0;
    let deleted = 0;
    await this.writer.run("BEGIN TRANSACTION");
    try {
      for (const { s, cutoff, coverage } of affected) {
        if (s.extent !== undefined && s.extent.min < cutoff) deleted += await deleteCandlesBefore(this.writer, s.id, cutoff);
        if (coverage !== undefined) await replaceCoverage(this.writer, s.id, coverage);
      }
      await this.writer.run("COMMIT");
    } catch (e) {
      await this.writer.run("ROLLBACK").catch(() => undefined);
      throw e;
    }
    for (const { s, cutoff, coverage } of affected) {
      // A bound, not the exact oldest row: enough for choosing append or upsert, and for scans.
      if (s.extent !== undefined && s.extent.min < cutoff) s.extent = s.extent.max < cutoff ? undefined : { min: cutoff, max: s.extent.max };
      if (coverage !== undefined) this.coverage.set(s.market, s.timeframe, coverage);
      s.version++;
      this.tails.dropBefore(s.id, cutoff);
      this.noteChange(s.id, EARLIEST_MS, cutoff);
    }
    return deleted;
  }

  /**
   * Rewrites the candle table in (market, timeframe, time) order without holding writes back
   * for the copy: see `startCompaction`. The old table's blocks become free at the next checkpoint.
   */
  async compact(): Promise<CompactionResult> {
    return (await this.startCompaction()).finish();
  }

  /**
   * Compaction, step 1: copies the table in order on a connection of its own, while reads and
   * writes go on (about a second per million candles here); writes committed meanwhile are noted.
   * `finish` then takes the single writer only to carry those over and swap the tables, so writes
   * wait for that alone. Reads never wait: they see the old table until the swap commits.
   * One compaction at a time; `finish` must be called.
   */
  async startCompaction(): Promise<PendingCompaction> {
    this.assertOpen();
    if (this.rewriteChanges !== undefined) throw new Error("a compaction is running already");
    // Noted from before the copy's snapshot, so nothing committed after it can be missed.
    const changes = new Map<number, Interval[]>();
    this.rewriteChanges = changes;
    let copied: number;
    try {
      const conn = await this.instance.connect();
      try {
        copied = await copyCandleTable(conn);
      } finally {
        conn.closeSync();
      }
    } catch (e) {
      this.rewriteChanges = undefined;
      throw e;
    }
    return {
      copied,
      finish: () =>
        this.writes
          .run(async () => {
            this.assertOpen();
            const started = performance.now();
            const carried = await swapInCandleTable(this.writer, changes);
            return { copied, carried, swapMs: Math.round(performance.now() - started) };
          })
          .finally(() => (this.rewriteChanges = undefined)),
    };
  }

  private noteChange(series: number, start: number, end: number): void {
    if (this.rewriteChanges === undefined) return;
    this.rewriteChanges.set(series, union(this.rewriteChanges.get(series) ?? [], [{ start, end }]));
  }

  /** Waits for the write in progress, checkpoints and closes. Later calls fail UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.run(async () => {
      if (this.closed) return;
      // Deferred only if a read still runs; DuckDB then replays the WAL on the next open.
      await tryCheckpoint(this.writer);
      this.closed = true;
    });
    for (const r of this.idleReaders.splice(0)) r.close();
    this.writer.closeSync();
    this.instance.closeSync();
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError("the candle store is closed");
  }

  private async acquireReader(): Promise<ReadConnection> {
    return this.idleReaders.pop() ?? (await ReadConnection.open(this.instance));
  }

  private async releaseAfterEarlyStop(reader: ReadConnection): Promise<void> {
    try {
      await reader.endQuery();
    } catch {
      reader.close();
      return;
    }
    this.releaseReader(reader);
  }

  private releaseReader(reader: ReadConnection): void {
    if (!this.closed && this.idleReaders.length < READ_POOL_SIZE) this.idleReaders.push(reader);
    else reader.close();
  }
}

/** A read connection with its range query prepared once: planning costs more than a small scan. */
class ReadConnection {
  private constructor(
    readonly connection: DuckDBConnection,
    private readonly rangeQuery: DuckDBPreparedStatement,
  ) {}

  static async open(instance: DuckDBInstance): Promise<ReadConnection> {
    const connection = await instance.connect();
    try {
      const rangeQuery = await connection.prepare(RANGE_SQL);
      return new ReadConnection(connection, rangeQuery);
    } catch (e) {
      connection.closeSync();
      throw e;
    }
  }

  range(series: number, start: number, end: number): Promise<DuckDBResult> {
    this.rangeQuery.bindInteger(1, series);
    this.rangeQuery.bindBigInt(2, BigInt(start));
    this.rangeQuery.bindBigInt(3, BigInt(end));
    return this.rangeQuery.stream();
  }

  /** Ends the transaction of a result left half read: DuckDB ends it when the next query starts. */
  async endQuery(): Promise<void> {
    await this.connection.run("SELECT 1");
  }

  close(): void {
    this.rangeQuery.destroySync();
    this.connection.closeSync();
  }
}

function* inBatches(c: CandleColumns, firstSize: number, size: number): Generator<CandleColumns> {
  for (let from = 0; from < c.time.length; from += from === 0 ? firstSize : size) {
    yield sliceColumns(c, from, Math.min(c.time.length, from + (from === 0 ? firstSize : size)));
  }
}
