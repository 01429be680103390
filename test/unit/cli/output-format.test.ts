import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { candleRecords } from "../../../src/cli/candle-rows.js";
import { displayWidth, formatCsv, formatJsonArray, formatRecords, formatTable, parseOutputFormat, plainNumber, type Records } from "../../../src/cli/output-format.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { create } from "@bufbuild/protobuf";
import { CandleSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

/** A minimal RFC 4180 reader: enough to check that what formatCsv writes reads back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  return rows;
}

const sample: Records = {
  columns: ["market", "price", "note"],
  rows: [
    ["KRW-BTC", 95000000, "plain"],
    ["KRW-ETH", 0.00000012, 'with "quotes", commas\nand a newline'],
    ["KRW-XRP", null, ""],
  ],
};

describe("output formats", () => {
  it("parses --format, table by default, and refuses other names", () => {
    expect(parseOutputFormat(undefined)).toBe("table");
    expect(parseOutputFormat("CSV")).toBe("csv");
    expect(() => parseOutputFormat("xml")).toThrow(UsageError);
    expect(() => parseOutputFormat("csv", ["table", "json"])).toThrow('--format: "csv" is not an output format: expected table, json');
  });

  it("writes CSV that reads back cell for cell, quoting only what must be quoted", () => {
    const text = formatCsv(sample);
    expect(text.split("\n")[1]).toBe("KRW-BTC,95000000,plain");
    expect(parseCsv(text)).toEqual([
      ["market", "price", "note"],
      ["KRW-BTC", "95000000", "plain"],
      ["KRW-ETH", "0.00000012", 'with "quotes", commas\nand a newline'],
      ["KRW-XRP", "", ""],
    ]);
  });

  it("writes JSON that parses as one array of objects keyed by column", () => {
    expect(JSON.parse(formatJsonArray(sample))).toEqual([
      { market: "KRW-BTC", price: 95000000, note: "plain" },
      { market: "KRW-ETH", price: 0.00000012, note: 'with "quotes", commas\nand a newline' },
      { market: "KRW-XRP", price: null, note: "" },
    ]);
    expect(formatJsonArray({ columns: ["a"], rows: [] })).toBe("[]\n");
  });

  it("aligns a table: numbers right, text left, Korean names two columns wide", () => {
    const text = formatTable({ columns: ["market", "name", "price"], rows: [["KRW-BTC", "비트코인", 1.5], ["KRW-ETH", "ETH", 100]] });
    expect(text).toBe(["market   name      price", "KRW-BTC  비트코인    1.5", "KRW-ETH  ETH         100", ""].join("\n"));
    expect(displayWidth("비트코인")).toBe(8);
  });

  it("spells every double in plain notation that reads back as the same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = plainNumber(n);
        expect(text).not.toMatch(/e/);
        expect(Number(text)).toBe(n === 0 ? 0 : n);
      }),
    );
    expect(plainNumber(1.2e-7)).toBe("0.00000012");
    expect(plainNumber(-3.5e21)).toBe("-3500000000000000000000");
  });

  it("gives candles the same columns in every format", () => {
    const candles = [create(CandleSchema, { timeMs: 1704067200000n, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15 })];
    const records = candleRecords("KRW-BTC", candles);
    expect(parseCsv(formatRecords(records, "csv"))).toEqual([
      ["market", "time_ms", "time", "open", "high", "low", "close", "volume", "quote_volume"],
      ["KRW-BTC", "1704067200000", "2024-01-01T00:00:00.000Z", "1", "2", "0.5", "1.5", "10", "15"],
    ]);
    expect(JSON.parse(formatRecords(records, "json"))).toEqual([
      { market: "KRW-BTC", time_ms: 1704067200000, time: "2024-01-01T00:00:00.000Z", open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quote_volume: 15 },
    ]);
    expect(formatRecords(records, "table").split("\n")[0]).toMatch(/^market\s+time_ms\s+time\s+open\s+high\s+low\s+close\s+volume\s+quote_volume$/);
  });
});
