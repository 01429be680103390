import { badOptionValue } from "./usage-error.js";

/** How a command prints records on stdout. */
export type OutputFormat = "table" | "csv" | "json";

export const OUTPUT_FORMATS: readonly OutputFormat[] = ["table", "csv", "json"];

export type Cell = string | number | boolean | null;

/** Rows of cells under named columns: what every command prints, in any format. */
export interface Records {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** The format `--format` names, `table` when absent; a UsageError outside `allowed`. */
export function parseOutputFormat(value: string | undefined, allowed: readonly OutputFormat[] = OUTPUT_FORMATS): OutputFormat {
  if (value === undefined) return "table";
  const f = allowed.find((a) => a === value.trim().toLowerCase());
  if (f === undefined) throw badOptionValue("--format", value, `is not an output format: expected ${allowed.join(", ")}`);
  return f;
}

export function formatRecords(records: Records, format: OutputFormat): string {
  switch (format) {
    case "table":
      return formatTable(records);
    case "csv":
      return formatCsv(records);
    case "json":
      return formatJsonArray(records);
  }
}

/**
 * Aligned columns under a header: numbers right-aligned, text left-aligned, nulls blank. Numbers
 * are printed exactly (see `plainNumber`), never rounded for looks.
 */
export function formatTable(records: Records): string {
  const text = records.rows.map((row) => row.map(cellText));
  const numeric = records.columns.map((_, i) => records.rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === "number"));
  const widths = records.columns.map((name, i) => Math.max(displayWidth(name), ...text.map((r) => displayWidth(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!, numeric[i]! ? "right" : "left"))
      .join("  ")
      .trimEnd();
  return [line(records.columns), ...text.map(line)].map((l) => `${l}\n`).join("");
}

/** RFC 4180: a header line, then one line per row; fields quoted only when they must be. */
export function formatCsv(records: Records): string {
  return [csvLine(records.columns), ...records.rows.map(csvLine)].join("");
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(",")}\n`;
}

export function csvField(cell: Cell): string {
  const text = cellText(cell);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A JSON array of one object per row, one row per line, so it reads well and parses as one document. */
export function formatJsonArray(records: Records): string {
  if (records.rows.length === 0) return "[]\n";
  return `[\n${records.rows.map((r) => `  ${jsonObject(records.columns, r)}`).join(",\n")}\n]\n`;
}

/** One row as a JSON object keyed by column name. */
export function jsonObject(columns: readonly string[], row: readonly Cell[]): string {
  const o: Record<string, Cell> = {};
  columns.forEach((name, i) => (o[name] = row[i] ?? null));
  return JSON.stringify(o);
}

function cellText(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return "";
  if (typeof cell === "number") return plainNumber(cell);
  return String(cell);
}

/**
 * `n` in plain decimal notation with exactly the digits of its shortest round-trip form:
 * `1.2e-7` becomes `0.00000012`, which reads back as the same double.
 */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, lead, rest = "", exp] = m;
  const digits = lead! + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Terminal columns `s` takes: Hangul and CJK characters (e.g. Korean market names) take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += isWide(ch.codePointAt(0)!) ? 2 : 1;
  return w;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function pad(s: string, width: number, align: "left" | "right"): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(s)));
  return align === "right" ? fill + s : s + fill;
}
