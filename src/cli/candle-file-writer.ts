import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { extname } from "node:path";
import type { DuckDBAppender, DuckDBConnection, DuckDBDataChunk, DuckDBInstance } from "@duckdb/node-api";
import type { CandleBatch } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { batchCsvLines, batchJsonLines, CANDLE_CSV_HEADER, checkBatchShape } from "./candle-rows.js";
import { badOptionValue } from "./usage-error.js";

export type CandleFileFormat = "csv" | "jsonl" | "parquet";

const FORMAT_OF_EXTENSION: Readonly<Record<string, CandleFileFormat>> = {
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".parquet": "parquet",
};

/** The file format `path`'s extension names; a UsageError naming `option` otherwise. */
export function candleFileFormatOf(path: string, option = "--out"): CandleFileFormat {
  const format = FORMAT_OF_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined) throw badOptionValue(option, path, "must end in .parquet, .csv or .jsonl");
  return format;
}

/**
 * Writes FetchCandleRange batches to a file, all or nothing: everything goes to `<path>.partial`
 * beside the target, which `commit` renames into place and `abort` removes. A reader of `path`
 * therefore sees either the previous file or the complete new one.
 */
export interface CandleFileWriter {
  readonly path: string;
  readonly format: CandleFileFormat;
  write(batch: CandleBatch): Promise<void>;
  /** Completes the file and renames it to `path`. */
  commit(): Promise<void>;
  /** Removes the partial file. Safe to call at any time, more than once; never rejects. */
  abort(): Promise<void>;
}

/**
 * Opens a writer for `path` in the format its extension names. The partial file is created
 * here, so an unwritable destination fails before any candle is fetched.
 */
export async function openCandleFileWriter(path: string): Promise<CandleFileWriter> {
  const format = candleFileFormatOf(path);
  const partial = `${path}.partial`;
  const handle = await open(partial, "w");
  if (format === "parquet") {
    await handle.close();
    return ParquetCandleWriter.open(path, partial);
  }
  return new TextCandleWriter(path, partial, format, handle);
}

/** CSV with a header line, or JSON Lines; streamed batch by batch, so memory stays at one batch. */
class TextCandleWriter implements CandleFileWriter {
  private started = false;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly partial: string,
    readonly format: "csv" | "jsonl",
    private readonly handle: FileHandle,
  ) {}

  async write(batch: CandleBatch): Promise<void> {
    checkBatchShape(batch);
    let text = "";
    if (!this.started && this.format === "csv") text = CANDLE_CSV_HEADER;
    this.started = true;
    text += this.format === "csv" ? batchCsvLines(batch) : batchJsonLines(batch);
    // writeFile on a handle writes everything from the current position, looping over short writes.
    if (text !== "") await this.handle.writeFile(text);
  }

  async commit(): Promise<void> {
    if (!this.started && this.format === "csv") await this.handle.writeFile(CANDLE_CSV_HEADER);
    await this.handle.sync();
    await this.close();
    await rename(this.partial, this.path);
  }

  async abort(): Promise<void> {
    await this.close().catch(() => {});
    await rm(this.partial, { force: true }).catch(() => {});
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;

/**
 * Parquet via DuckDB's own writer: batches go through the appender (DuckDB's fast ingest path)
 * into a table of an in-memory database, and `commit` COPYs it to the file.
 *
 * Memory: the whole result is held in that in-memory table until commit, roughly 70-80 bytes a
 * candle (ten million candles ~0.8 GB); csv and jsonl stream instead, for exports beyond that.
 */
class ParquetCandleWriter implements CandleFileWriter {
  readonly format = "parquet";
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly partial: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly appender: DuckDBAppender,
    private readonly chunk: DuckDBDataChunk,
  ) {}

  static async open(path: string, partial: string): Promise<ParquetCandleWriter> {
    // Loaded here, not at the top: the native module adds about half a second to every command otherwise.
    const { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, VARCHAR } = await import("@duckdb/node-api");
    const instance = await DuckDBInstance.create(":memory:");
    try {
      const connection = await instance.connect();
      try {
        await connection.run(
          "CREATE TABLE candles (market VARCHAR, time_ms BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, quote_volume DOUBLE)",
        );
        const appender = await connection.createAppender("candles");
        const chunk = DuckDBDataChunk.create([VARCHAR, BIGINT, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE]);
        return new ParquetCandleWriter(path, partial, instance, connection, appender, chunk);
      } catch (e) {
        connection.closeSync();
        throw e;
      }
    } catch (e) {
      instance.closeSync();
      await rm(partial, { force: true });
      throw e;
    }
  }

  // async although nothing is awaited: a refused batch must reject, as the interface promises.
  async write(batch: CandleBatch): Promise<void> {
    checkBatchShape(batch);
    const n = batch.timeMs.length;
    const chunk = this.chunk;
    for (let from = 0; from < n; from += CHUNK_ROWS) {
      const to = Math.min(n, from + CHUNK_ROWS);
      chunk.reset();
      chunk.rowCount = to - from;
      chunk.setColumns([
        new Array<string>(to - from).fill(batch.market),
        batch.timeMs.slice(from, to),
        batch.open.slice(from, to),
        batch.high.slice(from, to),
        batch.low.slice(from, to),
        batch.close.slice(from, to),
        batch.volume.slice(from, to),
        batch.quoteVolume.slice(from, to),
      ]);
      this.appender.appendDataChunk(chunk);
    }
  }

  async commit(): Promise<void> {
    this.appender.flushSync();
    // COPY takes no parameter for its target, so the path goes in as a quoted literal. Without
    // ORDER BY DuckDB keeps insertion order: markets in request order, each ascending in time.
    const target = `'${this.partial.replaceAll("'", "''")}'`;
    await this.connection.run(
      `COPY (SELECT market, time_ms, epoch_ms(time_ms) AS time, open, high, low, close, volume, quote_volume FROM candles) TO ${target} (FORMAT parquet)`,
    );
    this.close();
    await rename(this.partial, this.path);
  }

  async abort(): Promise<void> {
    try {
      this.close();
    } catch {
      // Closing is best effort here: the partial file is removed either way.
    }
    await rm(this.partial, { force: true }).catch(() => {});
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.appender.closeSync();
    } finally {
      this.connection.closeSync();
      this.instance.closeSync();
    }
  }
}
