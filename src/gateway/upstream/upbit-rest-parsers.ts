import { parseJsonWithBigInt, type JsonValue } from "./json-with-bigint.js";
import type {
  Change,
  AskBid,
  UpbitCandle,
  UpbitMarket,
  UpbitOrderbook,
  UpbitOrderbookInstrument,
  UpbitOrderbookUnit,
  UpbitTicker,
  UpbitTrade,
} from "./upbit-types.js";
import { UpstreamProtocolError, type UpbitErrorBody } from "./upstream-errors.js";

/**
 * One parser per Upbit REST endpoint: reply text in, typed values out. Each checks every field
 * it reads (type, range, format) and throws an UpstreamProtocolError naming the endpoint and the
 * field otherwise, so a changed or broken reply is reported, never turned into a wrong number.
 * Fields we do not use are not checked, so additions on Upbit's side do not break us.
 */

/** `/v1/orderbook/instruments` element. Not in upbit-types.ts; kept here until it is needed elsewhere. */

export const MARKET_ALL_PATH = "/v1/market/all";
export const TICKER_PATH = "/v1/ticker";
export const TICKER_ALL_PATH = "/v1/ticker/all";
export const ORDERBOOK_PATH = "/v1/orderbook";
export const ORDERBOOK_INSTRUMENTS_PATH = "/v1/orderbook/instruments";
export const TRADES_PATH = "/v1/trades/ticks";

/** Integers under these keys are read exactly (as bigint) from the reply text. */
const BIGINT_KEYS: ReadonlySet<string> = new Set(["sequential_id"]);
/** `2026-03-11T14:40:00`: UTC without a zone suffix. */
const CANDLE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const CHANGES: readonly Change[] = ["RISE", "EVEN", "FALL"];
const ASK_BID: readonly AskBid[] = ["ASK", "BID"];

type JsonObject = { readonly [key: string]: unknown };

export function parseMarkets(text: string, endpoint = MARKET_ALL_PATH): UpbitMarket[] {
  return rows(endpoint, text).map((row) => {
    const market: UpbitMarket = {
      market: row.nonEmptyString("market"),
      koreanName: row.string("korean_name"),
      englishName: row.string("english_name"),
    };
    const event = row.optionalObject("market_event");
    if (event !== undefined) {
      market.warning = event.boolean("warning");
      market.caution = event.booleanRecord("caution");
    } else {
      // Shape before 2024-11-20 (still on the sister exchanges): NONE / CAUTION.
      const legacy = row.optionalString("market_warning");
      if (legacy !== undefined) market.warning = legacy === "CAUTION";
    }
    return market;
  });
}

/** Any `/v1/candles/*` reply; `endpoint` is the path asked, used in error messages. */
export function parseCandles(text: string, endpoint: string): UpbitCandle[] {
  return rows(endpoint, text).map((row) => ({
    market: row.nonEmptyString("market"),
    timeMs: row.utcDateTime("candle_date_time_utc"),
    open: row.positive("opening_price"),
    high: row.positive("high_price"),
    low: row.positive("low_price"),
    close: row.positive("trade_price"),
    volume: row.nonNegative("candle_acc_trade_volume"),
    quoteVolume: row.nonNegative("candle_acc_trade_price"),
    timestampMs: row.epochMs("timestamp"),
  }));
}

/** `/v1/ticker` and `/v1/ticker/all`. */
export function parseTickers(text: string, endpoint = TICKER_PATH): UpbitTicker[] {
  return rows(endpoint, text).map((row) => ({
    market: row.nonEmptyString("market"),
    tradeTimestampMs: row.epochMs("trade_timestamp"),
    openingPrice: row.positive("opening_price"),
    highPrice: row.positive("high_price"),
    lowPrice: row.positive("low_price"),
    tradePrice: row.positive("trade_price"),
    prevClosingPrice: row.positive("prev_closing_price"),
    change: row.oneOf("change", CHANGES),
    changePrice: row.nonNegative("change_price"),
    changeRate: row.nonNegative("change_rate"),
    signedChangePrice: row.finite("signed_change_price"),
    signedChangeRate: row.finite("signed_change_rate"),
    tradeVolume: row.nonNegative("trade_volume"),
    accTradePrice: row.nonNegative("acc_trade_price"),
    accTradePrice24h: row.nonNegative("acc_trade_price_24h"),
    accTradeVolume: row.nonNegative("acc_trade_volume"),
    accTradeVolume24h: row.nonNegative("acc_trade_volume_24h"),
    highest52WeekPrice: row.positive("highest_52_week_price"),
    highest52WeekDate: row.date("highest_52_week_date"),
    lowest52WeekPrice: row.positive("lowest_52_week_price"),
    lowest52WeekDate: row.date("lowest_52_week_date"),
    timestampMs: row.epochMs("timestamp"),
  }));
}

/**
 * `/v1/orderbook`. Upbit pads a thin side with `price 0, size 0` slots up to the requested depth;
 * a unit whose both sides are padding is dropped. A unit keeps a padded side (0, 0) only when the
 * other side is real, since a unit carries one bid and one ask.
 */
export function parseOrderbooks(text: string, endpoint = ORDERBOOK_PATH): UpbitOrderbook[] {
  return rows(endpoint, text).map((row) => {
    const units: UpbitOrderbookUnit[] = [];
    for (const unit of row.objects("orderbook_units")) {
      const askPrice = unit.nonNegative("ask_price");
      const askSize = unit.nonNegative("ask_size");
      const bidPrice = unit.nonNegative("bid_price");
      const bidSize = unit.nonNegative("bid_size");
      if (askPrice === 0 && askSize !== 0) unit.fail("ask_size", "must be 0 on a padded slot (ask_price 0)");
      if (bidPrice === 0 && bidSize !== 0) unit.fail("bid_size", "must be 0 on a padded slot (bid_price 0)");
      if (askPrice === 0 && bidPrice === 0) continue;
      units.push({ askPrice, askSize, bidPrice, bidSize });
    }
    return {
      market: row.nonEmptyString("market"),
      timestampMs: row.epochMs("timestamp"),
      totalAskSize: row.nonNegative("total_ask_size"),
      totalBidSize: row.nonNegative("total_bid_size"),
      units,
      level: row.nonNegative("level"),
    };
  });
}

export function parseOrderbookInstruments(text: string, endpoint = ORDERBOOK_INSTRUMENTS_PATH): UpbitOrderbookInstrument[] {
  return rows(endpoint, text).map((row) => ({
    market: row.nonEmptyString("market"),
    quoteCurrency: row.nonEmptyString("quote_currency"),
    tickSize: row.decimalString("tick_size"),
    supportedLevels: row.decimalStrings("supported_levels"),
  }));
}

/** `/v1/trades/ticks`; `sequential_id` is read exactly from the text. */
export function parseTrades(text: string, endpoint = TRADES_PATH): UpbitTrade[] {
  return rows(endpoint, text, BIGINT_KEYS).map((row) => ({
    market: row.nonEmptyString("market"),
    tradeTimestampMs: row.epochMs("timestamp"),
    tradePrice: row.positive("trade_price"),
    tradeVolume: row.nonNegative("trade_volume"),
    askBid: row.oneOf("ask_bid", ASK_BID),
    prevClosingPrice: row.positive("prev_closing_price"),
    changePrice: row.finite("change_price"),
    sequentialId: row.bigintId("sequential_id"),
  }));
}

/**
 * Upbit's error body, or undefined when the text is not one (a proxy's HTML page, an empty
 * body). Never throws: an error reply is already an error; its body only adds detail.
 */
export function parseUpbitError(text: string): UpbitErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || !isObject(value.error)) return undefined;
  const { name, message } = value.error;
  if ((typeof name !== "number" && typeof name !== "string") || typeof message !== "string") return undefined;
  return { name, message };
}

function rows(endpoint: string, text: string, bigintKeys?: ReadonlySet<string>): FieldReader[] {
  let value: JsonValue;
  try {
    // JSON.parse is several times faster; only replies with ids above 2^53 need our reader.
    value = bigintKeys === undefined ? (JSON.parse(text) as JsonValue) : parseJsonWithBigInt(text, { bigintKeys });
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new UpstreamProtocolError(endpoint, "body", `is not JSON (${text.length} chars): ${detail}`);
  }
  if (!Array.isArray(value)) throw new UpstreamProtocolError(endpoint, "body", `must be a JSON array, got ${describe(value)}`);
  return value.map((element, i) => {
    if (!isObject(element)) throw new UpstreamProtocolError(endpoint, `[${i}]`, `must be an object, got ${describe(element)}`);
    return new FieldReader(endpoint, `[${i}]`, element);
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short, safe description of a bad value for an error message (never the whole body). */
function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "bigint") return `integer ${value}`;
  if (typeof value === "object") return "an object";
  const shown = typeof value === "string" ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
  return `${typeof value} ${shown}`;
}

/** Reads the fields of one object of a reply, naming `path.field` in every error. */
class FieldReader {
  constructor(
    private readonly endpoint: string,
    private readonly path: string,
    private readonly obj: JsonObject,
  ) {}

  fail(field: string, problem: string): never {
    throw new UpstreamProtocolError(this.endpoint, `${this.path}.${field}`, problem);
  }

  private get(field: string): unknown {
    return Object.hasOwn(this.obj, field) ? this.obj[field] : undefined;
  }

  private bad(field: string, expected: string, value: unknown): never {
    return this.fail(field, `must be ${expected}, got ${describe(value)}`);
  }

  string(field: string): string {
    const v = this.get(field);
    return typeof v === "string" ? v : this.bad(field, "a string", v);
  }

  nonEmptyString(field: string): string {
    const v = this.string(field);
    return v.length > 0 ? v : this.bad(field, "a non-empty string", v);
  }

  optionalString(field: string): string | undefined {
    return this.get(field) === undefined ? undefined : this.string(field);
  }

  boolean(field: string): boolean {
    const v = this.get(field);
    return typeof v === "boolean" ? v : this.bad(field, "a boolean", v);
  }

  finite(field: string): number {
    const v = this.get(field);
    // JSON cannot spell NaN or Infinity, but a huge literal (1e999) parses to Infinity.
    return typeof v === "number" && Number.isFinite(v) ? v : this.bad(field, "a finite number", v);
  }

  nonNegative(field: string): number {
    const v = this.finite(field);
    return v >= 0 ? v : this.bad(field, "a number >= 0", v);
  }

  positive(field: string): number {
    const v = this.finite(field);
    return v > 0 ? v : this.bad(field, "a number > 0", v);
  }

  /** Epoch milliseconds: a non-negative safe integer. */
  epochMs(field: string): number {
    const v = this.get(field);
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : this.bad(field, "epoch milliseconds (integer >= 0)", v);
  }

  /** A non-negative integer of any size, read exactly. */
  bigintId(field: string): bigint {
    const v = this.get(field);
    if (typeof v === "bigint" && v >= 0n) return v;
    return this.bad(field, "a non-negative integer", v);
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.get(field);
    return typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : this.bad(field, `one of ${allowed.join("/")}`, v);
  }

  /** `yyyy-MM-ddTHH:mm:ss` read as UTC (Upbit sends no zone suffix), to epoch ms. */
  utcDateTime(field: string): number {
    const v = this.get(field);
    const m = typeof v === "string" ? CANDLE_TIME.exec(v) : null;
    if (m === null) return this.bad(field, "a UTC date-time yyyy-MM-ddTHH:mm:ss", v);
    const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
    const ms = Date.UTC(y, mo - 1, d, h, mi, s);
    // Date.UTC rolls over (month 13, 25:00); a round trip catches it.
    const back = new Date(ms);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s) {
      return this.bad(field, "a valid UTC date-time", v);
    }
    return ms;
  }

  /** `yyyy-MM-dd`, kept as the string. */
  date(field: string): string {
    const v = this.get(field);
    const m = typeof v === "string" ? DATE.exec(v) : null;
    if (m === null) return this.bad(field, "a date yyyy-MM-dd", v);
    const [, y, mo, d] = m.map(Number) as [number, number, number, number];
    const back = new Date(Date.UTC(y, mo - 1, d));
    if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return this.bad(field, "a valid date", v);
    return v as string;
  }

  decimalString(field: string): string {
    const v = this.get(field);
    return typeof v === "string" && DECIMAL.test(v) ? v : this.bad(field, "a decimal string", v);
  }

  decimalStrings(field: string): string[] {
    const v = this.get(field);
    if (!Array.isArray(v)) return this.bad(field, "an array of decimal strings", v);
    return v.map((item: unknown, i) => (typeof item === "string" && DECIMAL.test(item) ? item : this.bad(`${field}[${i}]`, "a decimal string", item)));
  }

  optionalObject(field: string): FieldReader | undefined {
    const v = this.get(field);
    if (v === undefined) return undefined;
    return isObject(v) ? new FieldReader(this.endpoint, `${this.path}.${field}`, v) : this.bad(field, "an object", v);
  }

  objects(field: string): FieldReader[] {
    const v = this.get(field);
    if (!Array.isArray(v)) return this.bad(field, "an array", v);
    return v.map((item: unknown, i) =>
      isObject(item) ? new FieldReader(this.endpoint, `${this.path}.${field}[${i}]`, item) : this.bad(`${field}[${i}]`, "an object", item),
    );
  }

  booleanRecord(field: string): Record<string, boolean> {
    const v = this.get(field);
    if (!isObject(v)) return this.bad(field, "an object of booleans", v);
    // fromEntries defines own properties, so a "__proto__" key cannot change the prototype.
    return Object.fromEntries(
      Object.entries(v).map(([key, flag]): [string, boolean] => [key, typeof flag === "boolean" ? flag : this.bad(`${field}.${key}`, "a boolean", flag)]),
    );
  }
}
