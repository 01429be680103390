import { statSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Interval } from "../shared/intervals.js";

/** Blocks and bytes of the database file, as `stats` and the compaction trigger read them. */
export interface StorageFigures {
  databaseSizeBytes: number;
  walSizeBytes: number;
  blockSize: number;
  totalBlocks: number;
  usedBlocks: number;
  freeBlocks: number;
}

/** Name the rewritten table has until it replaces `candles`. */
const REWRITE_TABLE = "candles_compacting";

/** Replaces the stored coverage rows of one series with `intervals` (normal). */
export async function replaceCoverage(writer: DuckDBConnection, series: number, intervals: readonly Interval[]): Promise<void> {
  await writer.run("DELETE FROM coverage WHERE series = $1", [series]);
  if (intervals.length === 0) return;
  const appender = await writer.createAppender("coverage");
  try {
    for (const iv of intervals) {
      appender.appendInteger(series);
      appender.appendBigInt(BigInt(iv.start));
      appender.appendBigInt(BigInt(iv.end));
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Deletes the candles of one series older than `cutoff`; answers how many. */
export async function deleteCandlesBefore(writer: DuckDBConnection, series: number, cutoff: number): Promise<number> {
  return (await writer.run("DELETE FROM candles WHERE series = $1 AND ts < $2", [series, BigInt(cutoff)])).rowsChanged;
}

/** Oldest time a range of changed rows can start at: retention's "everything before the cutoff". */
export const EARLIEST_MS = -Number.MAX_SAFE_INTEGER;

/**
 * Compaction, step 1: copies the candle table in (market, timeframe, time) order into a new
 * table, on `conn` (not the writer), so writes go on meanwhile; readers are not affected at all.
 * Each series' rows then sit together, zone maps on time prune well again, and rows deleted or
 * updated in place stop occupying blocks. The copy is of the snapshot the transaction began
 * with; `swapInCandleTable` brings over what changed since. Answers the number of candles copied.
 *
 * The new table is created from the old one's own DDL, so it keeps every column and constraint
 * of whatever schema version the file is at.
 */
export async function copyCandleTable(conn: DuckDBConnection): Promise<number> {
  await conn.run("BEGIN TRANSACTION");
  try {
    const ddl = (await conn.runAndReadAll(
      "SELECT sql FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'candles'",
    )).getRows()[0]?.[0];
    const create = typeof ddl === "string" ? ddl.replace(/^CREATE TABLE candles\(/, `CREATE TABLE ${REWRITE_TABLE}(`) : undefined;
    if (create === undefined || create === ddl) throw new Error(`cannot read the candle table's definition (got ${String(ddl)})`);
    await conn.run(`DROP TABLE IF EXISTS ${REWRITE_TABLE}`);
    await conn.run(create);
    // DuckDB keeps insertion order, so this ORDER BY is the physical order of the new table.
    const copied = (await conn.run(
      `INSERT INTO ${REWRITE_TABLE}
       SELECT c.* FROM candles AS c JOIN series AS s ON c.series = s.id
        ORDER BY s.market, s.timeframe, c.ts`,
    )).rowsChanged;
    const total = await countRows(conn, "candles");
    // The join would silently drop candles of a series the series table does not know.
    if (copied !== total) throw new Error(`the rewrite copied ${copied} of ${total} candles; left the table as it was`);
    await conn.run("COMMIT");
    return copied;
  } catch (e) {
    await conn.run("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/**
 * Compaction, step 2, on the writer with no write in progress: replaces, in the copy, every
 * range of rows that changed since the copy's snapshot (`changed`: per series, half-open time
 * ranges written or deleted since) with what the candle table holds now, checks both hold the
 * same number of rows, and swaps the tables, all in one transaction. Readers see the old table
 * until the commit, the new one after it. Answers the number of candles carried over.
 */
export async function swapInCandleTable(writer: DuckDBConnection, changed: ReadonlyMap<number, readonly Interval[]>): Promise<number> {
  let carried = 0;
  await writer.run("BEGIN TRANSACTION");
  try {
    for (const [series, ranges] of changed) {
      for (const r of ranges) {
        const bounds = [series, BigInt(r.start), BigInt(Math.min(r.end, Number.MAX_SAFE_INTEGER))];
        await writer.run(`DELETE FROM ${REWRITE_TABLE} WHERE series = $1 AND ts >= $2 AND ts < $3`, bounds);
        carried += (await writer.run(
          `INSERT INTO ${REWRITE_TABLE} SELECT * FROM candles WHERE series = $1 AND ts >= $2 AND ts < $3 ORDER BY ts`,
          bounds,
        )).rowsChanged;
      }
    }
    const [now, copy] = [await countRows(writer, "candles"), await countRows(writer, REWRITE_TABLE)];
    if (now !== copy) throw new Error(`the rewritten table holds ${copy} candles, the table ${now}; left the table as it was`);
    await writer.run("DROP TABLE candles");
    await writer.run(`ALTER TABLE ${REWRITE_TABLE} RENAME TO candles`);
    await writer.run("COMMIT");
    return carried;
  } catch (e) {
    await writer.run("ROLLBACK").catch(() => undefined);
    await dropUnfinishedRewrite(writer).catch(() => undefined);
    throw e;
  }
}

/** Drops the copy a compaction left behind when it failed or the process died between its steps. */
export async function dropUnfinishedRewrite(writer: DuckDBConnection): Promise<void> {
  await writer.run(`DROP TABLE IF EXISTS ${REWRITE_TABLE}`);
}

async function countRows(conn: DuckDBConnection, table: string): Promise<number> {
  return Number((await conn.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]?.[0] ?? 0);
}

/**
 * CHECKPOINT, answering false instead of failing when DuckDB refuses because transactions that
 * may still need old row versions are running: after an UPDATE or a DROP, a read that began before
 * it blocks a checkpoint until it ends. FORCE CHECKPOINT would wait for such reads and hold back
 * every new one meanwhile, which is worse than checkpointing a little later.
 */
export async function tryCheckpoint(writer: DuckDBConnection): Promise<boolean> {
  try {
    await writer.run("CHECKPOINT");
    return true;
  } catch (e) {
    if (e instanceof Error && /Cannot CHECKPOINT/.test(e.message)) return false;
    throw e;
  }
}

/**
 * Blocks and bytes of the database at `path`. After a restart DuckDB can count blocks that a
 * checkpoint had already cut off the end of the file as free ones, until the next checkpoint that
 * writes something; those are left out here, so the figures describe the file as it is.
 */
export async function storageFigures(conn: DuckDBConnection, path: string): Promise<StorageFigures> {
  const size = await conn.runAndReadAll("PRAGMA database_size");
  const columns = size.columnNames();
  const row = size.getRows()[0] ?? [];
  const field = (name: string) => Number(row[columns.indexOf(name)] ?? 0);
  const databaseSizeBytes = fileSize(path);
  const blockSize = field("block_size");
  let totalBlocks = field("total_blocks");
  let freeBlocks = field("free_blocks");
  const usedBlocks = field("used_blocks");
  const blocksInFile = blockSize > 0 ? Math.floor(databaseSizeBytes / blockSize) : totalBlocks;
  if (databaseSizeBytes > 0 && totalBlocks > blocksInFile && usedBlocks <= blocksInFile) {
    freeBlocks = Math.max(0, freeBlocks - (totalBlocks - blocksInFile));
    totalBlocks = usedBlocks + freeBlocks;
  }
  return { databaseSizeBytes, walSizeBytes: fileSize(`${path}.wal`), blockSize, totalBlocks, usedBlocks, freeBlocks };
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
