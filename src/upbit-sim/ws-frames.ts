/**
 * Upbit WebSocket messages built from the synthetic exchange's data (API.md §4.4–4.7), in the
 * DEFAULT key spelling and key order of the docs examples, plus the SIMPLE key abbreviations and
 * the serialisation to frames. Values come from the exchange; only Upbit's derived fields
 * (change, rates, totals, date strings) are computed here.
 */
import type {
  SimCandle,
  SimMarket,
  SimOrderbook,
  SimOrderbookUnit,
  SimTicker,
  SimTrade,
} from "./exchange-model.js";
import type { WsFormat } from "./ws-request-frame.js";

export type StreamType = "SNAPSHOT" | "REALTIME";

/** A JSON value whose integers may exceed 2^53 (bigint, written exactly). */
export type WsValue = string | number | boolean | null | bigint | readonly WsValue[] | WsRecord;
export interface WsRecord {
  readonly [key: string]: WsValue;
}

const KST_OFFSET_MS = 9 * 60 * 60 * 1_000;
/** Upbit spells amounts with 8 fractional digits and rates with 10 (API.md §6.3). */
const AMOUNT_DECIMALS = 8;
const RATE_DECIMALS = 10;
/** Most objects one JSON_LIST / SIMPLE_LIST frame carries. */
export const LIST_FRAME_MAX_ITEMS = 100;

function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

function utcParts(ms: number): { y: string; mo: string; d: string; h: string; mi: string; s: string } {
  const t = new Date(ms);
  return {
    y: String(t.getUTCFullYear()).padStart(4, "0"),
    mo: pad2(t.getUTCMonth() + 1),
    d: pad2(t.getUTCDate()),
    h: pad2(t.getUTCHours()),
    mi: pad2(t.getUTCMinutes()),
    s: pad2(t.getUTCSeconds()),
  };
}

/** `yyyy-MM-dd` (UTC). */
export function isoDate(ms: number): string {
  const p = utcParts(ms);
  return `${p.y}-${p.mo}-${p.d}`;
}

/** `yyyy-MM-ddTHH:mm:ss` (the zone-less spelling of candle times). */
function isoDateTime(ms: number): string {
  const p = utcParts(ms);
  return `${p.y}-${p.mo}-${p.d}T${p.h}:${p.mi}:${p.s}`;
}

type Change = "RISE" | "EVEN" | "FALL";

/** Upbit's change fields of `price` against the previous close. */
function changeOf(price: number, prevClose: number): { change: Change; signedPrice: number; signedRate: number } {
  const signedPrice = roundTo(price - prevClose, AMOUNT_DECIMALS);
  const signedRate = prevClose === 0 ? 0 : roundTo(signedPrice / prevClose, RATE_DECIMALS);
  const change: Change = signedPrice > 0 ? "RISE" : signedPrice < 0 ? "FALL" : "EVEN";
  return { change, signedPrice, signedRate };
}

/** Placeholder the sender overwrites (keeping the key's position) with the real stream type. */
const PENDING_STREAM_TYPE: StreamType = "REALTIME";

/** A ticker message; `timestampMs` is when Upbit stored the ticker (shortly after the trade). */
export function tickerRecord(market: SimMarket, t: SimTicker, timestampMs: number): WsRecord {
  const trade = t.lastTrade;
  const ch = changeOf(trade.price, t.prevClosingPrice);
  const p = utcParts(trade.timestampMs);
  return {
    type: "ticker",
    code: t.market,
    opening_price: t.today.open,
    high_price: t.today.high,
    low_price: t.today.low,
    trade_price: trade.price,
    prev_closing_price: t.prevClosingPrice,
    acc_trade_price: t.today.quoteVolume,
    change: ch.change,
    change_price: Math.abs(ch.signedPrice),
    signed_change_price: ch.signedPrice,
    change_rate: Math.abs(ch.signedRate),
    signed_change_rate: ch.signedRate,
    ask_bid: trade.askBid,
    trade_volume: trade.volume,
    acc_trade_volume: t.today.volume,
    trade_date: `${p.y}${p.mo}${p.d}`,
    trade_time: `${p.h}${p.mi}${p.s}`,
    trade_timestamp: trade.timestampMs,
    acc_ask_volume: t.accAskVolume,
    acc_bid_volume: t.accBidVolume,
    highest_52_week_price: t.highest52WeekPrice,
    highest_52_week_date: isoDate(t.highest52WeekDateMs),
    lowest_52_week_price: t.lowest52WeekPrice,
    lowest_52_week_date: isoDate(t.lowest52WeekDateMs),
    market_state: "ACTIVE",
    is_trading_suspended: false,
    delisting_date: null,
    market_warning: market.warning ? "CAUTION" : "NONE",
    timestamp: timestampMs,
    acc_trade_price_24h: t.accTradePrice24h,
    acc_trade_volume_24h: t.accTradeVolume24h,
    stream_type: PENDING_STREAM_TYPE,
  };
}

/**
 * A trade message. `prevClosingPrice` is the previous UTC day's close as of the trade;
 * `best` is the book's top level at the trade time (zeros when the book is empty);
 * `timestampMs` is when Upbit stored the trade (shortly after it happened).
 */
export function tradeRecord(
  trade: SimTrade,
  prevClosingPrice: number,
  best: SimOrderbookUnit | undefined,
  timestampMs: number,
): WsRecord {
  const ch = changeOf(trade.price, prevClosingPrice);
  const p = utcParts(trade.timestampMs);
  return {
    type: "trade",
    code: trade.market,
    timestamp: timestampMs,
    trade_date: `${p.y}-${p.mo}-${p.d}`,
    trade_time: `${p.h}:${p.mi}:${p.s}`,
    trade_timestamp: trade.timestampMs,
    trade_price: trade.price,
    trade_volume: trade.volume,
    ask_bid: trade.askBid,
    prev_closing_price: prevClosingPrice,
    change: ch.change,
    change_price: Math.abs(ch.signedPrice),
    sequential_id: trade.sequentialId,
    best_ask_price: best?.askPrice ?? 0,
    best_ask_size: best?.askSize ?? 0,
    best_bid_price: best?.bidPrice ?? 0,
    best_bid_size: best?.bidSize ?? 0,
    stream_type: PENDING_STREAM_TYPE,
  };
}

/**
 * An orderbook message of exactly `depth` units (zero-padded like the wire), totals over the
 * returned units. `units` are already aggregated to `level` when level > 0.
 */
export function orderbookRecord(
  book: SimOrderbook,
  units: readonly SimOrderbookUnit[],
  depth: number,
  level: number,
): WsRecord {
  const shown = units.slice(0, depth);
  let totalAsk = 0;
  let totalBid = 0;
  for (const u of shown) {
    totalAsk += u.askSize;
    totalBid += u.bidSize;
  }
  const padded: WsRecord[] = shown.map((u) => ({
    ask_price: u.askPrice,
    bid_price: u.bidPrice,
    ask_size: u.askSize,
    bid_size: u.bidSize,
  }));
  while (padded.length < depth) padded.push({ ask_price: 0, bid_price: 0, ask_size: 0, bid_size: 0 });
  return {
    type: "orderbook",
    code: book.market,
    timestamp: book.timestampMs,
    total_ask_size: roundTo(totalAsk, AMOUNT_DECIMALS),
    total_bid_size: roundTo(totalBid, AMOUNT_DECIMALS),
    orderbook_units: padded,
    stream_type: PENDING_STREAM_TYPE,
    level,
  };
}

/** Significant digits kept when aggregating prices, so decimal levels leave no float dust. */
const PRICE_PRECISION = 12;

/**
 * Upbit's price aggregation (`level` on KRW pairs): asks round up and bids round down to a
 * multiple of `level`, sizes of levels falling together are summed.
 */
export function aggregateUnits(units: readonly SimOrderbookUnit[], level: number): SimOrderbookUnit[] {
  if (level <= 0) return [...units];
  const bucket = (price: number, up: boolean): number => {
    const q = price / level;
    // A price already on the grid must stay put despite float error in the division.
    const nearest = Math.round(q);
    const steps = Math.abs(q - nearest) < 1e-9 ? nearest : up ? Math.ceil(q) : Math.floor(q);
    return Number((steps * level).toPrecision(PRICE_PRECISION));
  };
  const asks: { price: number; size: number }[] = [];
  const bids: { price: number; size: number }[] = [];
  const add = (side: { price: number; size: number }[], price: number, size: number): void => {
    const last = side[side.length - 1];
    if (last !== undefined && last.price === price) last.size += size;
    else side.push({ price, size });
  };
  for (const u of units) {
    if (u.askPrice > 0) add(asks, bucket(u.askPrice, true), u.askSize);
    if (u.bidPrice > 0) add(bids, bucket(u.bidPrice, false), u.bidSize);
  }
  const n = Math.max(asks.length, bids.length);
  const out: SimOrderbookUnit[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      askPrice: asks[i]?.price ?? 0,
      askSize: roundTo(asks[i]?.size ?? 0, AMOUNT_DECIMALS),
      bidPrice: bids[i]?.price ?? 0,
      bidSize: roundTo(bids[i]?.size ?? 0, AMOUNT_DECIMALS),
    });
  }
  return out;
}

/** A candle message; `timestampMs` is when Upbit stored the bucket's last tick (API.md §5.4). */
export function candleRecord(type: string, market: string, c: SimCandle, timestampMs: number): WsRecord {
  return {
    type,
    code: market,
    candle_date_time_utc: isoDateTime(c.timeMs),
    candle_date_time_kst: isoDateTime(c.timeMs + KST_OFFSET_MS),
    opening_price: c.open,
    high_price: c.high,
    low_price: c.low,
    trade_price: c.close,
    candle_acc_trade_volume: c.volume,
    candle_acc_trade_price: c.quoteVolume,
    timestamp: timestampMs,
    stream_type: PENDING_STREAM_TYPE,
  };
}

export function listSubscriptionsRecord(
  ticket: string,
  result: readonly { type: string; codes: readonly string[]; level?: number }[],
): WsRecord {
  return {
    method: "LIST_SUBSCRIPTIONS",
    result: result.map(
      (r): WsRecord =>
        r.level === undefined ? { type: r.type, codes: [...r.codes] } : { type: r.type, codes: [...r.codes], level: r.level },
    ),
    ticket,
  };
}

export function errorRecord(name: string, message: string): WsRecord {
  return { error: { name, message } };
}

export const STATUS_UP_RECORD: WsRecord = { status: "UP" };

/** The same record with its `stream_type` set (key position kept). */
export function withStreamType(record: WsRecord, streamType: StreamType): WsRecord {
  return { ...record, stream_type: streamType };
}

const TICKER_KEYS: Readonly<Record<string, string>> = {
  type: "ty",
  code: "cd",
  opening_price: "op",
  high_price: "hp",
  low_price: "lp",
  trade_price: "tp",
  prev_closing_price: "pcp",
  change: "c",
  change_price: "cp",
  signed_change_price: "scp",
  change_rate: "cr",
  signed_change_rate: "scr",
  trade_volume: "tv",
  acc_trade_volume: "atv",
  acc_trade_volume_24h: "atv24h",
  acc_trade_price: "atp",
  acc_trade_price_24h: "atp24h",
  trade_date: "tdt",
  trade_time: "ttm",
  trade_timestamp: "ttms",
  ask_bid: "ab",
  acc_ask_volume: "aav",
  acc_bid_volume: "abv",
  highest_52_week_price: "h52wp",
  highest_52_week_date: "h52wdt",
  lowest_52_week_price: "l52wp",
  lowest_52_week_date: "l52wdt",
  market_state: "ms",
  is_trading_suspended: "its",
  delisting_date: "dd",
  market_warning: "mw",
  timestamp: "tms",
  stream_type: "st",
};

const TRADE_KEYS: Readonly<Record<string, string>> = {
  type: "ty",
  code: "cd",
  trade_price: "tp",
  trade_volume: "tv",
  ask_bid: "ab",
  prev_closing_price: "pcp",
  change: "c",
  change_price: "cp",
  trade_date: "td",
  trade_time: "ttm",
  trade_timestamp: "ttms",
  timestamp: "tms",
  sequential_id: "sid",
  best_ask_price: "bap",
  best_ask_size: "bas",
  best_bid_price: "bbp",
  best_bid_size: "bbs",
  stream_type: "st",
};

const ORDERBOOK_KEYS: Readonly<Record<string, string>> = {
  type: "ty",
  code: "cd",
  total_ask_size: "tas",
  total_bid_size: "tbs",
  orderbook_units: "obu",
  ask_price: "ap",
  bid_price: "bp",
  ask_size: "as",
  bid_size: "bs",
  timestamp: "tms",
  level: "lv",
  stream_type: "st",
};

const CANDLE_KEYS: Readonly<Record<string, string>> = {
  type: "ty",
  code: "cd",
  candle_date_time_utc: "cdttmu",
  candle_date_time_kst: "cdttmk",
  opening_price: "op",
  high_price: "hp",
  low_price: "lp",
  trade_price: "tp",
  candle_acc_trade_volume: "catv",
  candle_acc_trade_price: "catp",
  timestamp: "tms",
  stream_type: "st",
};

const LIST_SUBSCRIPTIONS_KEYS: Readonly<Record<string, string>> = {
  method: "mthd",
  result: "rslt",
  type: "ty",
  codes: "cds",
  level: "lv",
  ticket: "tckt",
};

/** DEFAULT → SIMPLE key table of each message kind (API.md §4.3–4.7). */
export const SIMPLE_KEYS = {
  ticker: TICKER_KEYS,
  trade: TRADE_KEYS,
  orderbook: ORDERBOOK_KEYS,
  candle: CANDLE_KEYS,
  listSubscriptions: LIST_SUBSCRIPTIONS_KEYS,
} as const;

function keyTableOf(record: WsRecord): Readonly<Record<string, string>> | undefined {
  if ("method" in record) return LIST_SUBSCRIPTIONS_KEYS;
  const type = record.type;
  if (type === "ticker") return TICKER_KEYS;
  if (type === "trade") return TRADE_KEYS;
  if (type === "orderbook") return ORDERBOOK_KEYS;
  if (typeof type === "string" && type.startsWith("candle.")) return CANDLE_KEYS;
  return undefined; // errors and status frames look the same in every format
}

function isRecord(v: WsValue): v is WsRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function renameKeys(value: WsValue, table: Readonly<Record<string, string>>): WsValue {
  if (Array.isArray(value)) return value.map((v: WsValue) => renameKeys(v, table));
  if (!isRecord(value)) return value;
  const out: Record<string, WsValue> = {};
  for (const [k, v] of Object.entries(value)) out[table[k] ?? k] = renameKeys(v, table);
  return out;
}

/** The record with SIMPLE (abbreviated) keys. */
export function toSimple(record: WsRecord): WsRecord {
  const table = keyTableOf(record);
  return table === undefined ? record : (renameKeys(record, table) as WsRecord);
}

/** JSON text of `value`; bigints are written as exact integers (sequential ids exceed 2^53). */
export function stringifyWs(value: WsValue): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map((v: WsValue) => stringifyWs(v)).join(",")}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) parts.push(`${JSON.stringify(k)}:${stringifyWs(v)}`);
  return `{${parts.join(",")}}`;
}

const isSimple = (format: WsFormat): boolean => format === "SIMPLE" || format === "SIMPLE_LIST";
const isList = (format: WsFormat): boolean => format === "JSON_LIST" || format === "SIMPLE_LIST";

/**
 * Frame payloads (UTF-8 JSON) for data records in `format`: one object per frame, or for the
 * LIST formats arrays of up to LIST_FRAME_MAX_ITEMS objects.
 */
export function encodeDataFrames(records: readonly WsRecord[], format: WsFormat): Buffer[] {
  const shaped = isSimple(format) ? records.map(toSimple) : records;
  if (!isList(format)) return shaped.map((r) => Buffer.from(stringifyWs(r), "utf8"));
  const frames: Buffer[] = [];
  for (let i = 0; i < shaped.length; i += LIST_FRAME_MAX_ITEMS) {
    frames.push(Buffer.from(stringifyWs(shaped.slice(i, i + LIST_FRAME_MAX_ITEMS)), "utf8"));
  }
  return frames;
}

/** Payload of a control reply (LIST_SUBSCRIPTIONS, error, status): always a single object. */
export function encodeControlFrame(record: WsRecord, format: WsFormat): Buffer {
  return Buffer.from(stringifyWs(isSimple(format) ? toSimple(record) : record), "utf8");
}
