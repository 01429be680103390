import { fixedDecimalText } from "../shared/decimal-text.js";

/**
 * Upbit's wire spelling (API.md §6.3): REST candles, tickers and trades write prices and amounts
 * with exactly 8 fractional digits (`103600000.00000000`) and rates with 10; the orderbook writes
 * plain numbers (`116233000`, `0.004`); `sequential_id` is an integer above 2^53. `JSON.stringify`
 * can do none of that, so replies are written by this small writer, where a pre-spelled number is
 * a `RawJson` and a bigint is written digit for digit.
 */

/** JSON text inserted verbatim (a number already spelled the Upbit way). */
export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonWritable =
  | string
  | number
  | bigint
  | boolean
  | null
  | RawJson
  | readonly JsonWritable[]
  | { readonly [key: string]: JsonWritable };

/** Compact JSON text of `value`, keys in insertion order. Non-finite numbers become `null`. */
export function writeJson(value: JsonWritable): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

function write(value: JsonWritable, out: string[]): void {
  if (value === null) out.push("null");
  else if (typeof value === "string") out.push(JSON.stringify(value));
  else if (typeof value === "number") out.push(Number.isFinite(value) ? plainNumberText(value) : "null");
  else if (typeof value === "bigint") out.push(value.toString());
  else if (typeof value === "boolean") out.push(value ? "true" : "false");
  else if (value instanceof RawJson) out.push(value.text);
  else if (isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item, out);
    });
    out.push("]");
  } else {
    out.push("{");
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (!first) out.push(",");
      first = false;
      out.push(JSON.stringify(key), ":");
      write(item, out);
    }
    out.push("}");
  }
}

function isArray(value: JsonWritable): value is readonly JsonWritable[] {
  return Array.isArray(value);
}

/** Fractional digits Upbit writes for prices, volumes and amounts on candles, tickers, trades. */
export const AMOUNT_FRACTION_DIGITS = 8;
/** Fractional digits Upbit writes for change rates. */
export const RATE_FRACTION_DIGITS = 10;


/** `n` as a plain decimal (never exponent form), shortest digits: the REST orderbook spelling. */
export function plainNumberText(n: number): string {
  if (!Number.isFinite(n)) return "null";
  const shortest = String(n);
  const exponent = /e([+-]\d+)$/i.exec(shortest);
  if (!exponent) return shortest;
  const power = Number(exponent[1]);
  if (power > 0) return BigInt(Math.round(n)).toString();
  const mantissaFraction = (shortest.split(/e/i)[0]!.split(".")[1] ?? "").length;
  const digits = mantissaFraction - power;
  // toFixed stops at 100 digits; such a number has no plain spelling worth writing.
  if (digits > 100) return shortest;
  return n.toFixed(digits).replace(/\.?0+$/, "");
}

/** A price, volume or amount spelled with 8 fractional digits. */
export function amount(n: number): RawJson {
  return new RawJson(fixedDecimalText(n, AMOUNT_FRACTION_DIGITS));
}

/** A change rate spelled with 10 fractional digits. */
export function rate(n: number): RawJson {
  return new RawJson(fixedDecimalText(n, RATE_FRACTION_DIGITS));
}

/** `n` rounded to `digits` fractional digits (sums of sizes must not print `4.178840940000001`). */
export function roundTo(n: number, digits: number): number {
  const factor = 10 ** digits;
  const rounded = Math.round(n * factor) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}

export const KST_OFFSET_MS = 9 * 60 * 60 * 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `yyyy-MM-dd'T'HH:mm:ss` in UTC, no zone suffix (`candle_date_time_utc`). */
export function utcDateTimeText(ms: number): string {
  return iso(ms).slice(0, 19);
}

/** The same instant in KST (`candle_date_time_kst`). */
export function kstDateTimeText(ms: number): string {
  return iso(ms + KST_OFFSET_MS).slice(0, 19);
}

/** `yyyy-MM-dd` in UTC (`trade_date_utc`, `first_day_of_period`, 52-week dates). */
export function utcDateText(ms: number): string {
  return iso(ms).slice(0, 10);
}

/** `HH:mm:ss` in UTC (`trade_time_utc`). */
export function utcTimeText(ms: number): string {
  return iso(ms).slice(11, 19);
}

/** `yyyyMMdd` (ticker `trade_date`), shifted by `offsetMs` (0 = UTC, KST_OFFSET_MS = KST). */
export function compactDateText(ms: number, offsetMs = 0): string {
  return iso(ms + offsetMs).slice(0, 10).replaceAll("-", "");
}

/** `HHmmss` (ticker `trade_time`), shifted by `offsetMs`. */
export function compactTimeText(ms: number, offsetMs = 0): string {
  return iso(ms + offsetMs).slice(11, 19).replaceAll(":", "");
}
