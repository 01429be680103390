import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { DuckDBInstance } from "@duckdb/node-api";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { candleFileFormatOf, openCandleFileWriter } from "../../../src/cli/candle-file-writer.js";
import { batchCsvLines, batchJsonLines, CANDLE_COLUMNS } from "../../../src/cli/candle-rows.js";
import { csvLine, jsonObject } from "../../../src/cli/output-format.js";
import { isoTime } from "../../../src/cli/time-arg.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { type CandleBatch, CandleBatchSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

interface Row {
  market: string;
  time_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote_volume: number;
}

function batchOf(market: string, rows: readonly Omit<Row, "market">[]): CandleBatch {
  return create(CandleBatchSchema, {
    market,
    timeMs: rows.map((r) => BigInt(r.time_ms)),
    open: rows.map((r) => r.open),
    high: rows.map((r) => r.high),
    low: rows.map((r) => r.low),
    close: rows.map((r) => r.close),
    volume: rows.map((r) => r.volume),
    quoteVolume: rows.map((r) => r.quote_volume),
  });
}

function minutes(from: number, n: number): Omit<Row, "market">[] {
  return Array.from({ length: n }, (_, i) => ({ time_ms: from + i * 60_000, open: 100 + i, high: 101 + i, low: 99.5 + i, close: 100.25 + i, volume: 1.2e-7 * (i + 1), quote_volume: 12345.678 + i }));
}

const T0 = Date.UTC(2024, 0, 1);
const BATCHES = [batchOf("KRW-BTC", minutes(T0, 3000)), batchOf("KRW-BTC", minutes(T0 + 3000 * 60_000, 10)), batchOf("KRW-ETH", []), batchOf("KRW-ETH", minutes(T0, 5))];
const EXPECTED: Row[] = BATCHES.flatMap((b) => b.timeMs.map((t, i) => ({ market: b.market, time_ms: Number(t), open: b.open[i]!, high: b.high[i]!, low: b.low[i]!, close: b.close[i]!, volume: b.volume[i]!, quote_volume: b.quoteVolume[i]! })));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mdb-cli-writer-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function parquetColumnTypes(path: string): Promise<Record<string, string>> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const result = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    return Object.fromEntries(result.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

async function readParquet(path: string): Promise<(Row & { time: string })[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const result = await c.runAndReadAll(`SELECT market, time_ms, strftime(time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time, open, high, low, close, volume, quote_volume FROM read_parquet('${path}')`);
    return result.getRowObjectsJS().map((r) => ({ ...(r as unknown as Row & { time: string }), time_ms: Number(r.time_ms) }));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

describe("candle file writers", () => {
  it("knows the format by extension and refuses others", () => {
    expect(candleFileFormatOf("a/b.PARQUET")).toBe("parquet");
    expect(candleFileFormatOf("x.csv")).toBe("csv");
    expect(candleFileFormatOf("x.jsonl")).toBe("jsonl");
    expect(() => candleFileFormatOf("x.json")).toThrow(UsageError);
    expect(() => candleFileFormatOf("x")).toThrow('--out: "x" must end in .parquet, .csv or .jsonl');
  });

  it("writes Parquet with DuckDB: every candle in stream order, time as a TIMESTAMP", async () => {
    const path = join(dir, "out.parquet");
    const w = await openCandleFileWriter(path);
    for (const b of BATCHES) await w.write(b);
    expect(existsSync(`${path}.partial`)).toBe(true);
    expect(existsSync(path)).toBe(false);
    await w.commit();
    expect(readdirSync(dir)).toEqual(["out.parquet"]);
    expect(await parquetColumnTypes(path)).toEqual({
      market: "VARCHAR",
      time_ms: "BIGINT",
      time: "TIMESTAMP",
      open: "DOUBLE",
      high: "DOUBLE",
      low: "DOUBLE",
      close: "DOUBLE",
      volume: "DOUBLE",
      quote_volume: "DOUBLE",
    });
    const rows = await readParquet(path);
    expect(rows).toEqual(EXPECTED.map((r) => ({ ...r, time: isoTime(r.time_ms) })));
  });

  it("writes CSV and JSON Lines that read back as the same candles", async () => {
    for (const ext of ["csv", "jsonl"]) {
      const path = join(dir, `out.${ext}`);
      const w = await openCandleFileWriter(path);
      for (const b of BATCHES) await w.write(b);
      await w.commit();
      const lines = readFileSync(path, "utf8").trimEnd().split("\n");
      const rows =
        ext === "csv"
          ? lines.slice(1).map((l) => {
              const [market, time_ms, time, ...prices] = l.split(",");
              return { market, time_ms: Number(time_ms), time, ...Object.fromEntries(CANDLE_COLUMNS.slice(3).map((c, i) => [c, Number(prices[i])])) };
            })
          : lines.map((l) => JSON.parse(l) as Row);
      if (ext === "csv") expect(lines[0]).toBe(CANDLE_COLUMNS.join(","));
      expect(rows).toEqual(EXPECTED.map((r) => ({ ...r, time: isoTime(r.time_ms) })));
    }
    expect(readdirSync(dir).sort()).toEqual(["out.csv", "out.jsonl"]);
  });

  it("writes a header-only CSV and an empty Parquet file when there are no candles", async () => {
    for (const ext of ["csv", "parquet"]) {
      const w = await openCandleFileWriter(join(dir, `empty.${ext}`));
      await w.write(batchOf("KRW-BTC", []));
      await w.commit();
    }
    expect(readFileSync(join(dir, "empty.csv"), "utf8")).toBe(`${CANDLE_COLUMNS.join(",")}\n`);
    expect(await readParquet(join(dir, "empty.parquet"))).toEqual([]);
  });

  it("leaves nothing behind on abort, and keeps the previous file", async () => {
    for (const ext of ["csv", "jsonl", "parquet"]) {
      const w = await openCandleFileWriter(join(dir, `gone.${ext}`));
      await w.write(BATCHES[0]!);
      await w.abort();
      await w.abort();
    }
    expect(readdirSync(dir)).toEqual([]);
    const path = join(dir, "keep.csv");
    const first = await openCandleFileWriter(path);
    await first.write(BATCHES[3]!);
    await first.commit();
    const before = readFileSync(path, "utf8");
    const second = await openCandleFileWriter(path);
    await second.write(BATCHES[0]!);
    await second.abort();
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(readdirSync(dir)).toEqual(["keep.csv"]);
  });

  it("fails before fetching anything when the destination cannot be written", async () => {
    await expect(openCandleFileWriter(join(dir, "no", "such", "dir.parquet"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a batch whose columns differ in length", async () => {
    const w = await openCandleFileWriter(join(dir, "bad.csv"));
    const bad = batchOf("KRW-BTC", minutes(T0, 3));
    bad.close.pop();
    await expect(w.write(bad)).rejects.toThrow("with 3 times but 2 close values");
    await w.abort();
  });

  it("spells batches exactly as the row formatters spell the same candles", () => {
    const price = fc.double({ noNaN: true, noDefaultInfinity: true });
    const candle = fc.record({ time_ms: fc.integer({ min: 0, max: 253_402_300_799_999 }), open: price, high: price, low: price, close: price, volume: price, quote_volume: price });
    fc.assert(
      fc.property(fc.constantFrom("KRW-BTC", "BTC-ETH", "USDT-SOL"), fc.array(candle, { maxLength: 20 }), (market, rows) => {
        const b = batchOf(market, rows);
        const cells = rows.map((r) => [market, r.time_ms, isoTime(r.time_ms), r.open, r.high, r.low, r.close, r.volume, r.quote_volume]);
        expect(batchCsvLines(b)).toBe(cells.map(csvLine).join(""));
        expect(batchJsonLines(b)).toBe(cells.map((c) => `${jsonObject(CANDLE_COLUMNS, c)}\n`).join(""));
      }),
    );
  });
});
