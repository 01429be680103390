import type {
  AskBid,
  Change,
  UpbitCandleUpdate,
  UpbitOrderbook,
  UpbitOrderbookUnit,
  UpbitTicker,
  UpbitTrade,
} from "./upbit-types.js";

/**
 * Upbit public WebSocket frames → the gateway's typed quotation objects (API.md §4).
 *
 * One code path for all four formats: DEFAULT and JSON_LIST use full keys, SIMPLE and SIMPLE_LIST
 * abbreviated ones; the LIST formats wrap objects in an array. Pure and total: a frame that is not
 * what Upbit documents becomes an `invalid` message carrying a typed error, never an exception.
 */

/** A frame that is not valid UTF-8 JSON or whose fields have the wrong type or format. */
export class UpbitWebSocketFrameError extends Error {
  override readonly name = "UpbitWebSocketFrameError";
  constructor(
    /** What is wrong, in words. */
    readonly problem: string,
    /** The wire key at fault (`trade_price` or `tp`), when one is. */
    readonly field: string | undefined,
    /** The start of the offending frame or element, for logs. */
    readonly excerpt: string,
  ) {
    super(`${field === undefined ? "" : `${field}: `}${problem} in ${excerpt}`);
  }
}

/** Upbit's own error frame `{"error":{"name":…,"message":…}}`; Upbit closes the socket after it. */
export class UpbitWebSocketServerError extends Error {
  override readonly name = "UpbitWebSocketServerError";
  constructor(
    /** Upbit's error name, e.g. `INVALID_PARAM`, `NO_TICKET`, `WRONG_FORMAT`. */
    readonly upbitName: string | number,
    /** Upbit's message (Korean on the wire). */
    readonly upbitMessage: string,
  ) {
    super(`Upbit WebSocket error ${String(upbitName)}: ${upbitMessage}`);
  }
}

/** One entry of a LIST_SUBSCRIPTIONS reply. */
export interface UpbitListedSubscription {
  type: string;
  codes: string[];
  level?: number;
}

export type UpbitWebSocketMessage =
  | { kind: "ticker"; ticker: UpbitTicker }
  | { kind: "trade"; trade: UpbitTrade }
  | { kind: "orderbook"; orderbook: UpbitOrderbook }
  | { kind: "candle"; candle: UpbitCandleUpdate }
  /** The `{"status":"UP"}` keep-alive reply: proof of life, no data. */
  | { kind: "status"; status: string }
  | { kind: "subscriptions"; subscriptions: UpbitListedSubscription[] }
  | { kind: "error"; error: UpbitWebSocketServerError }
  | { kind: "invalid"; error: UpbitWebSocketFrameError };

/** What `ws` hands to a `message` listener, or a text frame. */
export type UpbitWebSocketFrameData = string | Buffer | ArrayBuffer | readonly Buffer[];

const EXCERPT_CHARS = 200;
/** Upbit frames nest four levels at most; the cap only keeps hostile input off the call stack. */
const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses one WebSocket frame (binary or text) into messages: one for DEFAULT/SIMPLE frames, one per
 * element for JSON_LIST/SIMPLE_LIST frames. Never throws.
 */
export function parseUpbitWebSocketFrame(data: UpbitWebSocketFrameData): UpbitWebSocketMessage[] {
  let text: string;
  if (typeof data === "string") {
    text = data;
  } else {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : Buffer.isBuffer(data) ? data : Buffer.concat(data);
    try {
      text = utf8.decode(bytes);
    } catch {
      return [invalid("frame is not valid UTF-8", undefined, Buffer.from(bytes).subarray(0, EXCERPT_CHARS).toString("hex"))];
    }
  }
  let value: unknown;
  try {
    // Only trades carry integers beyond 2^53; everything else takes the fast native parser.
    value = text.includes('"sid"') || text.includes('"sequential_id"') ? parseJsonPreservingLargeIntegers(text) : JSON.parse(text);
  } catch (e) {
    return [invalid(`frame is not JSON (${e instanceof Error ? e.message : String(e)})`, undefined, excerptOf(text))];
  }
  return Array.isArray(value) ? value.map((element) => parseUpbitWebSocketMessage(element)) : [parseUpbitWebSocketMessage(value)];
}

/**
 * Parses one already-decoded message object (an element of a LIST frame, or a whole frame). Integer
 * fields beyond 2^53 must arrive as bigint (see `parseJsonPreservingLargeIntegers`). Never throws.
 */
export function parseUpbitWebSocketMessage(value: unknown): UpbitWebSocketMessage {
  try {
    return dispatch(value);
  } catch (e) {
    if (e instanceof FieldProblem) return invalid(e.problem, e.field, excerptOf(value));
    // Only a bug can land here; it still must not take the connection down.
    return invalid(`unexpected failure: ${e instanceof Error ? e.message : String(e)}`, undefined, excerptOf(value));
  }
}

function invalid(problem: string, field: string | undefined, excerpt: string): UpbitWebSocketMessage {
  return { kind: "invalid", error: new UpbitWebSocketFrameError(problem, field, excerpt) };
}

function excerptOf(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === "string"
        ? value
        : (JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
}

class FieldProblem extends Error {
  override readonly name = "FieldProblem";
  constructor(
    readonly field: string | undefined,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function dispatch(value: unknown): UpbitWebSocketMessage {
  if (!isRecord(value)) throw new FieldProblem(undefined, "message is not a JSON object");
  if (Object.hasOwn(value, "error")) return { kind: "error", error: serverError(value["error"]) };
  if (Object.hasOwn(value, "status") && !Object.hasOwn(value, "type") && !Object.hasOwn(value, "ty")) {
    const status = value["status"];
    if (typeof status !== "string") throw new FieldProblem("status", "must be a string");
    return { kind: "status", status };
  }
  if (Object.hasOwn(value, "method") || Object.hasOwn(value, "mthd")) return listSubscriptions(new Fields(value, Object.hasOwn(value, "mthd")));

  const simple = Object.hasOwn(value, "ty") && !Object.hasOwn(value, "type");
  const f = new Fields(value, simple);
  if (!Object.hasOwn(value, simple ? "ty" : "type")) {
    // The 2018 capture in Upbit's docs: a ticker keyed by `market`, without `type`.
    if (Object.hasOwn(value, "market") && Object.hasOwn(value, "acc_trade_price_24h")) return { kind: "ticker", ticker: ticker(f) };
    throw new FieldProblem(simple ? "ty" : "type", "is missing");
  }
  const type = f.string(K.type);
  if (type === "ticker") return { kind: "ticker", ticker: ticker(f) };
  if (type === "trade") return { kind: "trade", trade: trade(f) };
  if (type === "orderbook") return { kind: "orderbook", orderbook: orderbook(f) };
  if (/^candle\.[0-9a-z]+$/.test(type)) return { kind: "candle", candle: candle(f, type) };
  throw new FieldProblem(f.key(K.type), `unsupported type ${JSON.stringify(type)}`);
}

function serverError(error: unknown): UpbitWebSocketServerError {
  if (!isRecord(error)) throw new FieldProblem("error", "must be an object");
  const name = error["name"];
  const message = error["message"] ?? "";
  if (typeof name !== "string" && typeof name !== "number") throw new FieldProblem("error.name", "must be a string or a number");
  if (typeof message !== "string") throw new FieldProblem("error.message", "must be a string");
  return new UpbitWebSocketServerError(name, message);
}

function listSubscriptions(f: Fields): UpbitWebSocketMessage {
  const result = f.raw(K.result);
  if (!Array.isArray(result)) throw new FieldProblem(f.key(K.result), "must be an array");
  const subscriptions = result.map((entry: unknown): UpbitListedSubscription => {
    if (!isRecord(entry)) throw new FieldProblem(f.key(K.result), "entries must be objects");
    const e = new Fields(entry, f.simple);
    const codes = e.raw(K.codes);
    if (!Array.isArray(codes) || !codes.every((c): c is string => typeof c === "string")) {
      throw new FieldProblem(e.key(K.codes), "must be an array of strings");
    }
    const level = e.optionalNumber(K.level);
    return { type: e.string(K.type), codes, ...(level === undefined ? {} : { level }) };
  });
  return { kind: "subscriptions", subscriptions };
}

/** Wire keys as [DEFAULT, SIMPLE] (API.md §4.4–4.7). */
type Key = readonly [full: string, simple: string];
const K = {
  type: ["type", "ty"],
  code: ["code", "cd"],
  streamType: ["stream_type", "st"],
  timestamp: ["timestamp", "tms"],
  openingPrice: ["opening_price", "op"],
  highPrice: ["high_price", "hp"],
  lowPrice: ["low_price", "lp"],
  tradePrice: ["trade_price", "tp"],
  prevClosingPrice: ["prev_closing_price", "pcp"],
  change: ["change", "c"],
  changePrice: ["change_price", "cp"],
  signedChangePrice: ["signed_change_price", "scp"],
  changeRate: ["change_rate", "cr"],
  signedChangeRate: ["signed_change_rate", "scr"],
  tradeVolume: ["trade_volume", "tv"],
  accTradeVolume: ["acc_trade_volume", "atv"],
  accTradeVolume24h: ["acc_trade_volume_24h", "atv24h"],
  accTradePrice: ["acc_trade_price", "atp"],
  accTradePrice24h: ["acc_trade_price_24h", "atp24h"],
  tickerTradeDate: ["trade_date", "tdt"],
  tradeTradeDate: ["trade_date", "td"],
  tradeTime: ["trade_time", "ttm"],
  tradeTimestamp: ["trade_timestamp", "ttms"],
  askBid: ["ask_bid", "ab"],
  accAskVolume: ["acc_ask_volume", "aav"],
  accBidVolume: ["acc_bid_volume", "abv"],
  highest52WeekPrice: ["highest_52_week_price", "h52wp"],
  highest52WeekDate: ["highest_52_week_date", "h52wdt"],
  lowest52WeekPrice: ["lowest_52_week_price", "l52wp"],
  lowest52WeekDate: ["lowest_52_week_date", "l52wdt"],
  marketState: ["market_state", "ms"],
  isTradingSuspended: ["is_trading_suspended", "its"],
  delistingDate: ["delisting_date", "dd"],
  marketWarning: ["market_warning", "mw"],
  sequentialId: ["sequential_id", "sid"],
  bestAskPrice: ["best_ask_price", "bap"],
  bestAskSize: ["best_ask_size", "bas"],
  bestBidPrice: ["best_bid_price", "bbp"],
  bestBidSize: ["best_bid_size", "bbs"],
  totalAskSize: ["total_ask_size", "tas"],
  totalBidSize: ["total_bid_size", "tbs"],
  orderbookUnits: ["orderbook_units", "obu"],
  askPrice: ["ask_price", "ap"],
  bidPrice: ["bid_price", "bp"],
  askSize: ["ask_size", "as"],
  bidSize: ["bid_size", "bs"],
  level: ["level", "lv"],
  candleDateTimeUtc: ["candle_date_time_utc", "cdttmu"],
  candleAccTradeVolume: ["candle_acc_trade_volume", "catv"],
  candleAccTradePrice: ["candle_acc_trade_price", "catp"],
  result: ["result", "rslt"],
  codes: ["codes", "cds"],
} as const satisfies Record<string, Key>;

const CHANGES: readonly Change[] = ["RISE", "EVEN", "FALL"];
const ASK_BIDS: readonly AskBid[] = ["ASK", "BID"];
const STREAM_TYPES = ["SNAPSHOT", "REALTIME"] as const;

/** Typed reads of one message object in one key style; a wrong field throws FieldProblem. */
class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    readonly simple: boolean,
  ) {}

  key(k: Key): string {
    return this.simple ? k[1] : k[0];
  }

  /** The value, or undefined when absent. */
  raw(k: Key): unknown {
    const key = this.key(k);
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  has(k: Key): boolean {
    const v = this.raw(k);
    return v !== undefined && v !== null;
  }

  private fail(k: Key, problem: string): never {
    throw new FieldProblem(this.key(k), problem);
  }

  string(k: Key): string {
    const v = this.raw(k);
    if (typeof v !== "string") this.fail(k, v === undefined ? "is missing" : "must be a string");
    return v;
  }

  optionalString(k: Key): string | undefined {
    return this.has(k) ? this.string(k) : undefined;
  }

  number(k: Key): number {
    const v = this.raw(k);
    // A bigint only appears for integers beyond 2^53 from the exact parser; as a price it is fine.
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number") this.fail(k, v === undefined ? "is missing" : "must be a number");
    if (!Number.isFinite(n)) this.fail(k, "must be finite");
    return n;
  }

  optionalNumber(k: Key): number | undefined {
    return this.has(k) ? this.number(k) : undefined;
  }

  /** Epoch milliseconds. */
  timeMs(k: Key): number {
    const n = this.number(k);
    if (!Number.isSafeInteger(n) || n < 0) this.fail(k, "must be a non-negative integer of milliseconds");
    return n;
  }

  optionalTimeMs(k: Key): number | undefined {
    return this.has(k) ? this.timeMs(k) : undefined;
  }

  oneOf<T extends string>(k: Key, allowed: readonly T[]): T {
    const v = this.string(k);
    if (!(allowed as readonly string[]).includes(v)) this.fail(k, `must be one of ${allowed.join(", ")}`);
    return v as T;
  }

  optionalOneOf<T extends string>(k: Key, allowed: readonly T[]): T | undefined {
    return this.has(k) ? this.oneOf(k, allowed) : undefined;
  }

  optionalBoolean(k: Key): boolean | undefined {
    if (!this.has(k)) return undefined;
    const v = this.raw(k);
    if (typeof v !== "boolean") this.fail(k, "must be a boolean");
    return v;
  }

  /** Market code, upper case; an orderbook's `.N` depth suffix is not part of it. */
  code(k: Key): string {
    const code = this.string(k).replace(/\.\d+$/, "").toUpperCase();
    if (code === "") this.fail(k, "must not be empty");
    return code;
  }

  /** `sequential_id`: exact, from a bigint (exact parser), a safe integer or a digit string. */
  sequentialId(k: Key): bigint {
    const v = this.raw(k);
    if (typeof v === "bigint") {
      if (v < 0n) this.fail(k, "must not be negative");
      return v;
    }
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < 0) this.fail(k, "must be a non-negative integer");
      if (!Number.isSafeInteger(v)) this.fail(k, "lost precision: parse the frame with parseJsonPreservingLargeIntegers");
      return BigInt(v);
    }
    if (typeof v === "string" && /^\d{1,30}$/.test(v)) return BigInt(v);
    return this.fail(k, v === undefined ? "is missing" : "must be an integer");
  }

  /** A calendar date as `YYYY-MM-DD`; Upbit's `yyyyMMdd` spelling is accepted too. */
  isoDate(k: Key): string {
    const v = this.string(k);
    const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v);
    if (m === null || utcMs(m[1], m[2], m[3], "00", "00", "00") === undefined) this.fail(k, "must be a date yyyy-MM-dd");
    return `${m[1]}-${m[2]}-${m[3]}`;
  }

  /** UTC ms from a date field and a time field in the given spellings. */
  dateTimeMs(dateKey: Key, datePattern: RegExp, timeKey: Key, timePattern: RegExp): number {
    const d = datePattern.exec(this.string(dateKey));
    if (d === null) this.fail(dateKey, `must match ${datePattern.source}`);
    const t = timePattern.exec(this.string(timeKey));
    if (t === null) this.fail(timeKey, `must match ${timePattern.source}`);
    const ms = utcMs(d[1], d[2], d[3], t[1], t[2], t[3]);
    if (ms === undefined) this.fail(dateKey, "is not a real date and time");
    return ms;
  }
}

/** Date.UTC of the parts, or undefined when they do not name a real instant (Feb 30, 25:00). */
function utcMs(...parts: (string | undefined)[]): number | undefined {
  const [y, mo, d, h, mi, s] = parts.map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return same ? ms : undefined;
}

// Ticker dates are yyyyMMdd/HHmmss, trade dates yyyy-MM-dd/HH:mm:ss (API.md §4.4, §4.5), both UTC.
const TICKER_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const TICKER_TIME = /^(\d{2})(\d{2})(\d{2})$/;
const TRADE_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TRADE_TIME = /^(\d{2}):(\d{2}):(\d{2})$/;
const CANDLE_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

function ticker(f: Fields): UpbitTicker {
  const codeKey: Key = f.has(K.code) ? K.code : ["market", "market"];
  const t: UpbitTicker = {
    market: f.code(codeKey),
    // trade_timestamp has ms; the date/time pair is only the fallback when it is absent.
    tradeTimestampMs: f.has(K.tradeTimestamp)
      ? f.timeMs(K.tradeTimestamp)
      : f.dateTimeMs(K.tickerTradeDate, TICKER_DATE, K.tradeTime, TICKER_TIME),
    openingPrice: f.number(K.openingPrice),
    highPrice: f.number(K.highPrice),
    lowPrice: f.number(K.lowPrice),
    tradePrice: f.number(K.tradePrice),
    prevClosingPrice: f.number(K.prevClosingPrice),
    change: f.oneOf(K.change, CHANGES),
    changePrice: f.number(K.changePrice),
    changeRate: f.number(K.changeRate),
    signedChangePrice: f.number(K.signedChangePrice),
    signedChangeRate: f.number(K.signedChangeRate),
    tradeVolume: f.number(K.tradeVolume),
    accTradePrice: f.number(K.accTradePrice),
    accTradePrice24h: f.number(K.accTradePrice24h),
    accTradeVolume: f.number(K.accTradeVolume),
    accTradeVolume24h: f.number(K.accTradeVolume24h),
    highest52WeekPrice: f.number(K.highest52WeekPrice),
    highest52WeekDate: f.isoDate(K.highest52WeekDate),
    lowest52WeekPrice: f.number(K.lowest52WeekPrice),
    lowest52WeekDate: f.isoDate(K.lowest52WeekDate),
    timestampMs: f.timeMs(K.timestamp),
  };
  const askBid = f.optionalOneOf(K.askBid, ASK_BIDS);
  if (askBid !== undefined) t.askBid = askBid;
  const accAskVolume = f.optionalNumber(K.accAskVolume);
  if (accAskVolume !== undefined) t.accAskVolume = accAskVolume;
  const accBidVolume = f.optionalNumber(K.accBidVolume);
  if (accBidVolume !== undefined) t.accBidVolume = accBidVolume;
  const marketState = f.optionalString(K.marketState);
  if (marketState !== undefined) t.marketState = marketState;
  // null is meaningful here ("not being delisted"), so it is kept apart from absence.
  if (f.raw(K.delistingDate) === null) t.delistingDate = null;
  else {
    const delistingDate = f.optionalString(K.delistingDate);
    if (delistingDate !== undefined) t.delistingDate = delistingDate;
  }
  const marketWarning = f.optionalString(K.marketWarning);
  if (marketWarning !== undefined) t.marketWarning = marketWarning;
  const isTradingSuspended = f.optionalBoolean(K.isTradingSuspended);
  if (isTradingSuspended !== undefined) t.isTradingSuspended = isTradingSuspended;
  const streamType = f.optionalOneOf(K.streamType, STREAM_TYPES);
  if (streamType !== undefined) t.streamType = streamType;
  return t;
}

function trade(f: Fields): UpbitTrade {
  const t: UpbitTrade = {
    market: f.code(K.code),
    tradeTimestampMs: f.has(K.tradeTimestamp)
      ? f.timeMs(K.tradeTimestamp)
      : f.dateTimeMs(K.tradeTradeDate, TRADE_DATE, K.tradeTime, TRADE_TIME),
    tradePrice: f.number(K.tradePrice),
    tradeVolume: f.number(K.tradeVolume),
    askBid: f.oneOf(K.askBid, ASK_BIDS),
    prevClosingPrice: f.number(K.prevClosingPrice),
    changePrice: f.number(K.changePrice),
    sequentialId: f.sequentialId(K.sequentialId),
  };
  const change = f.optionalOneOf(K.change, CHANGES);
  if (change !== undefined) t.change = change;
  const bestAskPrice = f.optionalNumber(K.bestAskPrice);
  if (bestAskPrice !== undefined) t.bestAskPrice = bestAskPrice;
  const bestAskSize = f.optionalNumber(K.bestAskSize);
  if (bestAskSize !== undefined) t.bestAskSize = bestAskSize;
  const bestBidPrice = f.optionalNumber(K.bestBidPrice);
  if (bestBidPrice !== undefined) t.bestBidPrice = bestBidPrice;
  const bestBidSize = f.optionalNumber(K.bestBidSize);
  if (bestBidSize !== undefined) t.bestBidSize = bestBidSize;
  const timestampMs = f.optionalTimeMs(K.timestamp);
  if (timestampMs !== undefined) t.timestampMs = timestampMs;
  const streamType = f.optionalOneOf(K.streamType, STREAM_TYPES);
  if (streamType !== undefined) t.streamType = streamType;
  return t;
}

function orderbook(f: Fields): UpbitOrderbook {
  const rawUnits = f.raw(K.orderbookUnits);
  if (!Array.isArray(rawUnits)) throw new FieldProblem(f.key(K.orderbookUnits), rawUnits === undefined ? "is missing" : "must be an array");
  const units: UpbitOrderbookUnit[] = [];
  for (const rawUnit of rawUnits as unknown[]) {
    if (!isRecord(rawUnit)) throw new FieldProblem(f.key(K.orderbookUnits), "entries must be objects");
    const u = new Fields(rawUnit, f.simple);
    const unit = { askPrice: u.number(K.askPrice), askSize: u.number(K.askSize), bidPrice: u.number(K.bidPrice), bidSize: u.number(K.bidSize) };
    // Upbit pads thin books with zero slots up to the requested depth. A slot zero on both sides
    // is pure padding; when only one side is thin the unit stays, that side reading price 0 (no
    // level), because a unit pairs the two sides and the other one is real.
    if (unit.askPrice === 0 && unit.bidPrice === 0) continue;
    units.push(unit);
  }
  const book: UpbitOrderbook = {
    market: f.code(K.code),
    timestampMs: f.timeMs(K.timestamp),
    totalAskSize: f.number(K.totalAskSize),
    totalBidSize: f.number(K.totalBidSize),
    units,
    // Frames from before the `level` feature carry none: that is the native tick.
    level: f.optionalNumber(K.level) ?? 0,
  };
  const streamType = f.optionalOneOf(K.streamType, STREAM_TYPES);
  if (streamType !== undefined) book.streamType = streamType;
  return book;
}

function candle(f: Fields, type: string): UpbitCandleUpdate {
  const m = CANDLE_DATE_TIME.exec(f.string(K.candleDateTimeUtc));
  const timeMs = m === null ? undefined : utcMs(m[1], m[2], m[3], m[4], m[5], m[6]);
  if (timeMs === undefined) throw new FieldProblem(f.key(K.candleDateTimeUtc), "must be a UTC date-time yyyy-MM-ddTHH:mm:ss");
  const c: UpbitCandleUpdate = {
    type,
    market: f.code(K.code),
    timeMs,
    open: f.number(K.openingPrice),
    high: f.number(K.highPrice),
    low: f.number(K.lowPrice),
    close: f.number(K.tradePrice),
    volume: f.number(K.candleAccTradeVolume),
    quoteVolume: f.number(K.candleAccTradePrice),
    timestampMs: f.timeMs(K.timestamp),
  };
  const streamType = f.optionalOneOf(K.streamType, STREAM_TYPES);
  if (streamType !== undefined) c.streamType = streamType;
  return c;
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * `JSON.parse` for Upbit frames, except that an integer literal beyond 2^53 (no fraction, no
 * exponent) becomes a bigint holding its exact digits: `sequential_id` is such an integer and
 * `JSON.parse` rounds it (17303368620800006 → …004). Throws SyntaxError on invalid JSON.
 */
export function parseJsonPreservingLargeIntegers(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i}`);
  };
  const skipSpace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const literal = <T>(word: string, value: T): T => {
    if (!text.startsWith(word, i)) fail("unexpected token");
    i += word.length;
    return value;
  };
  const string = (): string => {
    const start = i + 1;
    let j = start;
    let escaped = false;
    for (;;) {
      if (j >= text.length) return fail("unterminated string");
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) {
        i = j;
        fail("control character in string");
      }
      j++;
    }
    i = j + 1;
    // Escapes are rare on this feed; the native parser decodes (and checks) them exactly.
    return escaped ? (JSON.parse(text.slice(start - 1, j + 1)) as string) : text.slice(start, j);
  };
  const number = (): number | bigint => {
    JSON_NUMBER.lastIndex = i;
    const m = JSON_NUMBER.exec(text);
    if (m === null) return fail("unexpected token");
    const lit = m[0];
    i += lit.length;
    const n = Number(lit);
    return Number.isSafeInteger(n) || /[.eE]/.test(lit) ? n : BigInt(lit);
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail("nesting too deep");
    skipSpace();
    switch (text[i]) {
      case "{": {
        i++;
        const obj: Record<string, unknown> = {};
        skipSpace();
        if (text[i] === "}") {
          i++;
          return obj;
        }
        for (;;) {
          skipSpace();
          if (text[i] !== '"') fail("expected a string key");
          const key = string();
          skipSpace();
          if (text[i] !== ":") fail("expected ':'");
          i++;
          const v = value(depth + 1);
          // A plain assignment to "__proto__" would change the prototype instead of adding a key.
          if (key === "__proto__") Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
          else obj[key] = v;
          skipSpace();
          if (text[i] === ",") i++;
          else if (text[i] === "}") {
            i++;
            return obj;
          } else fail("expected ',' or '}'");
        }
      }
      case "[": {
        i++;
        const arr: unknown[] = [];
        skipSpace();
        if (text[i] === "]") {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          skipSpace();
          if (text[i] === ",") i++;
          else if (text[i] === "]") {
            i++;
            return arr;
          } else fail("expected ',' or ']'");
        }
      }
      case '"':
        return string();
      case "t":
        return literal("true", true);
      case "f":
        return literal("false", false);
      case "n":
        return literal("null", null);
      default:
        return number();
    }
  };
  const result = value(0);
  skipSpace();
  if (i !== text.length) fail("unexpected text after the JSON value");
  return result;
}
