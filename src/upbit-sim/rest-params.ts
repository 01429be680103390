/**
 * Query-parameter parsing for the quotation REST endpoints, failing the way Upbit fails
 * (API.md §2): a missing parameter, a type mismatch (`count=abc`), an invalid value and an
 * unknown market code each have their own recorded status and message. Parsing never throws
 * anything but `UpbitRequestError`, whatever the query string holds.
 */

export const MISSING_PARAMETER_MESSAGE = "Missing request parameter error. Check the required parameters!";
export const TYPE_MISMATCH_MESSAGE = "Type mismatch error. Check the parameters type!";
export const INVALID_PARAMETER_MESSAGE = "Invalid parameter. Check the given value!";
export const CODE_NOT_FOUND_MESSAGE = "Code not found";

/** A request Upbit would refuse; the reply is `{"error":{"name":<status>,"message":...}}`. */
export class UpbitRequestError extends Error {
  override readonly name = "UpbitRequestError";
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

export const missingParameter = (): UpbitRequestError => new UpbitRequestError(400, MISSING_PARAMETER_MESSAGE);
export const typeMismatch = (): UpbitRequestError => new UpbitRequestError(400, TYPE_MISMATCH_MESSAGE);
export const invalidParameter = (): UpbitRequestError => new UpbitRequestError(400, INVALID_PARAMETER_MESSAGE);
export const codeNotFound = (): UpbitRequestError => new UpbitRequestError(404, CODE_NOT_FOUND_MESSAGE);

/**
 * The first non-empty value of the first name present (later names are legacy camelCase
 * spellings). An empty value counts as absent, as a form binder treats `count=`.
 */
export function optionalParam(query: URLSearchParams, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = query.get(name);
    if (value !== null && value !== "") return value;
  }
  return undefined;
}

export function requiredParam(query: URLSearchParams, ...names: string[]): string {
  const value = optionalParam(query, ...names);
  if (value === undefined) throw missingParameter();
  return value;
}

const INT32_MAX = 2_147_483_647;
const INT32_MIN = -2_147_483_648;

/** A Java `int` as a form binder reads it: optional sign, digits, 32-bit range; else a type mismatch. */
export function parseIntParam(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw typeMismatch();
  const n = Number(text);
  if (n > INT32_MAX || n < INT32_MIN) throw typeMismatch();
  return n;
}

/** `true`/`false` and the other spellings Spring's boolean binder accepts; else a type mismatch. */
export function parseBooleanParam(text: string): boolean {
  const lower = text.toLowerCase();
  if (["true", "on", "yes", "1"].includes(lower)) return true;
  if (["false", "off", "no", "0"].includes(lower)) return false;
  throw typeMismatch();
}

/** A code as REST accepts it: trimmed, upper-cased (`krw-btc` serves `KRW-BTC`). */
export function normalizeCode(text: string): string {
  return text.trim().toUpperCase();
}

/** A comma-separated code list, normalised, empty items dropped, duplicates removed (first wins). */
export function parseCodeList(text: string): string[] {
  const codes = text.split(",").map(normalizeCode).filter((c) => c !== "");
  if (codes.length === 0) throw missingParameter();
  return [...new Set(codes)];
}

const CANDLE_TO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
/** Java's `ZoneOffset` range. */
const MAX_OFFSET_HOURS = 18;

/**
 * A candle `to` (API.md §1): `2025-06-24T04:56:53Z`, `2025-06-24 04:56:53` (no zone = UTC) or
 * `2025-06-24T13:56:53+09:00`, as UTC ms. Anything else is an invalid parameter; a `+` that was
 * not URL-encoded arrives as a space and is refused, as Upbit refuses it.
 */
export function parseCandleTo(text: string): number {
  const m = CANDLE_TO.exec(text);
  if (!m) throw invalidParameter();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) throw invalidParameter();
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  if (date.getUTCDate() !== day) throw invalidParameter();
  let offsetMs = 0;
  const zone = m[7];
  if (zone !== undefined && zone !== "Z") {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (hours > MAX_OFFSET_HOURS || minutes > 59) throw invalidParameter();
    offsetMs = (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return date.getTime() - offsetMs;
}

const TRADE_TO = /^(?:(\d{2})(\d{2})(\d{2})|(\d{2}):(\d{2}):(\d{2}))$/;

/** A trades `to` (`HHmmss` or `HH:mm:ss`, UTC) as ms after the start of its UTC day. */
export function parseTradeTo(text: string): number {
  const m = TRADE_TO.exec(text);
  if (!m) throw invalidParameter();
  const hour = Number(m[1] ?? m[4]);
  const minute = Number(m[2] ?? m[5]);
  const second = Number(m[3] ?? m[6]);
  if (hour > 23 || minute > 59 || second > 59) throw invalidParameter();
  return ((hour * 60 + minute) * 60 + second) * 1000;
}

/** A trades `cursor`: a `sequential_id` (decimal digits). */
export function parseCursor(text: string): bigint {
  if (!/^\d{1,30}$/.test(text)) throw invalidParameter();
  return BigInt(text);
}
