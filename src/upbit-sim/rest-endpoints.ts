/**
 * The quotation endpoints of API.md §1: paths, parameters, limits and reply shapes, written in
 * Upbit's spelling. Each answer is a pure function of (exchange, query, now): no HTTP here, so
 * handlers are testable without a server. The synthetic exchange supplies the data; this module
 * only selects and formats it.
 */
import type { SimCandle, SimMarket, SimTicker, SimTrade, SyntheticExchange } from "./exchange-model.js";
import { DAY_MS, bucketStart } from "../shared/time.js";
import type { Timeframe } from "../shared/timeframe.js";
import {
  codeNotFound,
  invalidParameter,
  normalizeCode,
  optionalParam,
  parseBooleanParam,
  parseCandleTo,
  parseCodeList,
  parseCursor,
  parseIntParam,
  parseTradeTo,
  requiredParam,
  typeMismatch,
} from "./rest-params.js";
import {
  KST_OFFSET_MS,
  type JsonWritable,
  amount,
  compactDateText,
  compactTimeText,
  kstDateTimeText,
  plainNumberText,
  rate,
  roundTo,
  utcDateText,
  utcDateTimeText,
  utcTimeText,
  writeJson,
} from "./upbit-json.js";
import { storedAtMs } from "./tick-storage-time.js";

/** Rate-limit groups as named in `Remaining-Req` on the wire (API.md §3). */
export const QUOTATION_GROUPS = ["market", "candles", "crix-trades", "ticker", "orderbook"] as const;
export type QuotationGroup = (typeof QUOTATION_GROUPS)[number];

/** One routed quotation request: its group and a function producing the JSON body text. */
export interface QuotationRoute {
  readonly group: QuotationGroup;
  /** The 200 body; throws `UpbitRequestError` for a request Upbit refuses. */
  answer(query: URLSearchParams, nowMs: number): string;
}

/** Candle `count`: default 1, at most 200 (API.md §1). */
const CANDLE_COUNT_DEFAULT = 1;
const CANDLE_COUNT_MAX = 200;
/** Trades `count`: default 1, at most 500; `days_ago` 1..7 (API.md §1.10). */
const TRADE_COUNT_DEFAULT = 1;
const TRADE_COUNT_MAX = 500;
const TRADE_DAYS_AGO_MAX = 7;
/** Orderbook `count`: default and maximum 30; out of range falls back to 30 (API.md §1.8). */
const ORDERBOOK_DEPTH_MAX = 30;
/** Seconds candles exist only this many calendar months back from now (API.md §1.2). */
const SECONDS_CANDLE_HISTORY_MONTHS = 3;
/** Sizes and amounts are summed in floating point; round away the binary noise. */
const SIZE_DIGITS = 8;
/** First trade-history window, in expected trades, before widening (keeps busy markets cheap). */
const TRADE_WINDOW_SLACK = 1.5;
const TRADE_WINDOW_MIN_MS = 1_000;
const TRADE_WINDOW_GROWTH = 4;

const MINUTE_UNITS: ReadonlyMap<number, Timeframe> = new Map([
  [1, "1m"], [3, "3m"], [5, "5m"], [10, "10m"], [15, "15m"], [30, "30m"], [60, "60m"], [240, "240m"],
]);

const FIXED_CANDLE_PATHS: ReadonlyMap<string, Timeframe> = new Map([
  ["/v1/candles/seconds", "1s"],
  ["/v1/candles/days", "1d"],
  ["/v1/candles/weeks", "1w"],
  ["/v1/candles/months", "1mo"],
  ["/v1/candles/years", "1y"],
]);

const MINUTES_PATH = /^\/v1\/candles\/minutes\/([^/]+)$/;

/** Route table of the quotation API over `exchange`; `route` is undefined for unknown paths. */
export function createQuotationEndpoints(exchange: SyntheticExchange): { route(pathname: string): QuotationRoute | undefined } {
  const marketOrThrow = (code: string): SimMarket => {
    const market = exchange.market(code);
    if (market === undefined) throw codeNotFound();
    return market;
  };

  const fixed: ReadonlyMap<string, QuotationRoute> = new Map<string, QuotationRoute>([
    ["/v1/market/all", { group: "market", answer: (q) => marketAll(exchange, q) }],
    ["/v1/ticker", { group: "ticker", answer: (q, now) => tickers(exchange, marketOrThrow, q, now) }],
    ["/v1/ticker/all", { group: "ticker", answer: (q, now) => tickersByQuote(exchange, q, now) }],
    ["/v1/orderbook", { group: "orderbook", answer: (q, now) => orderbooks(exchange, marketOrThrow, q, now) }],
    ["/v1/orderbook/instruments", { group: "orderbook", answer: (q) => instruments(marketOrThrow, q) }],
    // Deprecated since 2025-07-31 but not yet removed (API.md §1.9); old clients still call it.
    ["/v1/orderbook/supported_levels", { group: "orderbook", answer: (q) => supportedLevels(marketOrThrow, q) }],
    ["/v1/trades/ticks", { group: "crix-trades", answer: (q, now) => tradeTicks(exchange, marketOrThrow, q, now) }],
    ...[...FIXED_CANDLE_PATHS].map(([path, tf]): [string, QuotationRoute] => [
      path,
      { group: "candles", answer: (q, now) => candles(exchange, marketOrThrow, tf, q, now) },
    ]),
  ]);

  return {
    route(pathname) {
      const known = fixed.get(pathname);
      if (known) return known;
      const minutes = MINUTES_PATH.exec(pathname);
      if (!minutes) return undefined;
      const unitText = minutes[1]!;
      return {
        group: "candles",
        answer: (q, now) => {
          const tf = MINUTE_UNITS.get(parseIntParam(unitText));
          if (tf === undefined) throw invalidParameter();
          return candles(exchange, marketOrThrow, tf, q, now);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// /v1/market/all

function marketAll(exchange: SyntheticExchange, query: URLSearchParams): string {
  const detailsText = optionalParam(query, "is_details", "isDetails");
  const details = detailsText === undefined ? false : parseBooleanParam(detailsText);
  return writeJson(
    exchange.markets.map((m): JsonWritable => {
      const row: Record<string, JsonWritable> = { market: m.code, korean_name: m.koreanName, english_name: m.englishName };
      if (details) {
        row.market_event = {
          warning: m.warning,
          caution: {
            PRICE_FLUCTUATIONS: m.caution.PRICE_FLUCTUATIONS,
            TRADING_VOLUME_SOARING: m.caution.TRADING_VOLUME_SOARING,
            DEPOSIT_AMOUNT_SOARING: m.caution.DEPOSIT_AMOUNT_SOARING,
            GLOBAL_PRICE_DIFFERENCES: m.caution.GLOBAL_PRICE_DIFFERENCES,
            CONCENTRATION_OF_SMALL_ACCOUNTS: m.caution.CONCENTRATION_OF_SMALL_ACCOUNTS,
          },
        };
      }
      return row;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// /v1/candles/*


/** Start of the seconds-candle horizon: the same instant `SECONDS_CANDLE_HISTORY_MONTHS` months ago. */
export function secondsHistoryStartMs(nowMs: number): number {
  const d = new Date(nowMs);
  d.setUTCMonth(d.getUTCMonth() - SECONDS_CANDLE_HISTORY_MONTHS);
  return d.getTime();
}

function candleCount(query: URLSearchParams): number {
  const text = optionalParam(query, "count");
  if (text === undefined) return CANDLE_COUNT_DEFAULT;
  const count = parseIntParam(text);
  if (count < 1 || count > CANDLE_COUNT_MAX) throw invalidParameter();
  return count;
}

function candles(
  exchange: SyntheticExchange,
  marketOrThrow: (code: string) => SimMarket,
  tf: Timeframe,
  query: URLSearchParams,
  nowMs: number,
): string {
  const code = normalizeCode(requiredParam(query, "market"));
  const count = candleCount(query);
  const toText = optionalParam(query, "to");
  // Absent `to` means "latest, including the forming bucket", i.e. buckets starting at or before now.
  const toMs = Math.min(toText === undefined ? nowMs + 1 : parseCandleTo(toText), nowMs + 1);
  let converting = false;
  if (tf === "1d") {
    const unit = optionalParam(query, "converting_price_unit", "convertingPriceUnit");
    if (unit !== undefined && unit.toUpperCase() !== "KRW") throw invalidParameter();
    converting = unit !== undefined;
  }
  const market = marketOrThrow(code);
  const horizonMs = tf === "1s" ? secondsHistoryStartMs(nowMs) : market.listedAtMs;
  if (toMs <= horizonMs || toMs <= market.listedAtMs) return "[]";

  // Day candles need the candle before the oldest one for `prev_closing_price`.
  const wanted = tf === "1d" ? count + 1 : count;
  let rows = exchange.candles(market.code, tf, toMs, wanted);
  if (tf === "1s") rows = rows.filter((c) => c.timeMs >= horizonMs);
  const page = rows.slice(0, count);

  const conversion = converting && market.quote !== "KRW" ? krwConversion(exchange, market.quote, toMs, page) : undefined;
  return writeJson(
    page.map((c, i): JsonWritable => {
      const row = candleRow(market.code, c, nowMs);
      if (tf === "1s") return row;
      if (tf.endsWith("m")) return { ...row, unit: Number(tf.slice(0, -1)) };
      if (tf === "1d") {
        const prev = rows[i + 1]?.close ?? c.open;
        const change = roundTo(c.close - prev, SIZE_DIGITS);
        const dayRow: Record<string, JsonWritable> = {
          ...row,
          prev_closing_price: amount(prev),
          change_price: amount(change),
          change_rate: rate(prev === 0 ? 0 : change / prev),
        };
        if (conversion) dayRow.converted_trade_price = amount(roundTo(c.close * conversion(c.timeMs), SIZE_DIGITS));
        return dayRow;
      }
      return { ...row, first_day_of_period: utcDateText(c.timeMs) };
    }),
  );
}

function candleRow(code: string, c: SimCandle, nowMs: number): Record<string, JsonWritable> {
  return {
    market: code,
    candle_date_time_utc: utcDateTimeText(c.timeMs),
    candle_date_time_kst: kstDateTimeText(c.timeMs),
    opening_price: amount(c.open),
    high_price: amount(c.high),
    low_price: amount(c.low),
    trade_price: amount(c.close),
    timestamp: storedAtMs(code, c.lastTradeMs, nowMs),
    candle_acc_trade_price: amount(c.quoteVolume),
    candle_acc_trade_volume: amount(c.volume),
  };
}

/**
 * KRW price of one unit of `quote` on a given day (for `converted_trade_price`): the close of
 * `KRW-<quote>` that day, or of the nearest day that has one. Undefined without such a market.
 */
function krwConversion(
  exchange: SyntheticExchange,
  quote: string,
  toMs: number,
  page: readonly SimCandle[],
): ((dayMs: number) => number) | undefined {
  const code = `KRW-${quote}`;
  if (exchange.market(code) === undefined || page.length === 0) return undefined;
  const days = exchange.candles(code, "1d", toMs, page.length + 1);
  if (days.length === 0) return undefined;
  return (dayMs) => (days.find((d) => d.timeMs <= dayMs) ?? days[days.length - 1]!).close;
}

// ---------------------------------------------------------------------------------------------
// /v1/ticker, /v1/ticker/all

const QUOTE_CURRENCIES: ReadonlySet<string> = new Set(["KRW", "BTC", "USDT"]);

function tickers(
  exchange: SyntheticExchange,
  marketOrThrow: (code: string) => SimMarket,
  query: URLSearchParams,
  nowMs: number,
): string {
  const markets = parseCodeList(requiredParam(query, "markets")).map(marketOrThrow);
  const rows: JsonWritable[] = [];
  for (const m of markets) {
    const t = m.listedAtMs <= nowMs ? exchange.ticker(m.code, nowMs) : undefined;
    if (t) rows.push(tickerRow(t, nowMs));
  }
  return writeJson(rows);
}

function tickersByQuote(exchange: SyntheticExchange, query: URLSearchParams, nowMs: number): string {
  const quotes = parseCodeList(requiredParam(query, "quote_currencies", "quoteCurrencies"));
  if (!quotes.every((q) => QUOTE_CURRENCIES.has(q))) throw codeNotFound();
  const wanted = new Set(quotes);
  const found: SimTicker[] = [];
  for (const m of exchange.markets) {
    if (!wanted.has(m.quote) || m.listedAtMs > nowMs) continue;
    const t = exchange.ticker(m.code, nowMs);
    if (t) found.push(t);
  }
  // The one full recording came sorted by 24 h turnover, busiest first (API.md §1.7).
  found.sort((a, b) => b.accTradePrice24h - a.accTradePrice24h || (a.market < b.market ? -1 : 1));
  return writeJson(found.map((t) => tickerRow(t, nowMs)));
}

function tickerRow(t: SimTicker, nowMs: number): JsonWritable {
  const last = t.lastTrade;
  const price = last.price;
  const prev = t.prevClosingPrice;
  const signedChange = roundTo(price - prev, SIZE_DIGITS);
  const signedRate = prev === 0 ? 0 : signedChange / prev;
  return {
    market: t.market,
    trade_date: compactDateText(last.timestampMs),
    trade_time: compactTimeText(last.timestampMs),
    trade_date_kst: compactDateText(last.timestampMs, KST_OFFSET_MS),
    trade_time_kst: compactTimeText(last.timestampMs, KST_OFFSET_MS),
    trade_timestamp: last.timestampMs,
    opening_price: amount(t.today.open),
    high_price: amount(t.today.high),
    low_price: amount(t.today.low),
    trade_price: amount(price),
    prev_closing_price: amount(prev),
    change: signedChange > 0 ? "RISE" : signedChange < 0 ? "FALL" : "EVEN",
    change_price: amount(Math.abs(signedChange)),
    change_rate: rate(Math.abs(signedRate)),
    signed_change_price: amount(signedChange),
    signed_change_rate: rate(signedRate),
    trade_volume: amount(last.volume),
    acc_trade_price: amount(t.today.quoteVolume),
    acc_trade_price_24h: amount(t.accTradePrice24h),
    acc_trade_volume: amount(t.today.volume),
    acc_trade_volume_24h: amount(t.accTradeVolume24h),
    highest_52_week_price: amount(t.highest52WeekPrice),
    highest_52_week_date: utcDateText(t.highest52WeekDateMs),
    lowest_52_week_price: amount(t.lowest52WeekPrice),
    lowest_52_week_date: utcDateText(t.lowest52WeekDateMs),
    timestamp: storedAtMs(t.market, last.timestampMs, nowMs),
  };
}

// ---------------------------------------------------------------------------------------------
// /v1/orderbook, /v1/orderbook/instruments, /v1/orderbook/supported_levels

const LEVEL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

interface BookSide {
  readonly price: number;
  readonly size: number;
}

function orderbooks(
  exchange: SyntheticExchange,
  marketOrThrow: (code: string) => SimMarket,
  query: URLSearchParams,
  nowMs: number,
): string {
  const codes = parseCodeList(requiredParam(query, "markets"));
  const levelText = optionalParam(query, "level") ?? "0";
  if (!LEVEL_TEXT.test(levelText)) throw typeMismatch();
  const level = Number(levelText);
  const countText = optionalParam(query, "count");
  let depth = countText === undefined ? ORDERBOOK_DEPTH_MAX : parseIntParam(countText);
  if (depth < 1 || depth > ORDERBOOK_DEPTH_MAX) depth = ORDERBOOK_DEPTH_MAX;
  const markets = codes.map(marketOrThrow);

  const rows: JsonWritable[] = [];
  for (const m of markets) {
    // An unsupported level is not an error: that market is simply left out (`[]` for one market).
    if (level !== 0 && !m.supportedLevels.some((l) => Number(l) === level)) continue;
    const book = exchange.orderbook(m.code, nowMs, level === 0 ? depth : ORDERBOOK_DEPTH_MAX);
    let asks: BookSide[] = book.units.filter((u) => u.askPrice > 0).map((u) => ({ price: u.askPrice, size: u.askSize }));
    let bids: BookSide[] = book.units.filter((u) => u.bidPrice > 0).map((u) => ({ price: u.bidPrice, size: u.bidSize }));
    if (level !== 0) {
      asks = aggregate(asks, level, Math.ceil);
      bids = aggregate(bids, level, Math.floor);
    }
    asks = asks.slice(0, depth);
    bids = bids.slice(0, depth);
    const units: JsonWritable[] = [];
    for (let i = 0; i < depth; i++) {
      // A thin side is padded with zero slots so the array is always `count` long.
      units.push({
        bid_price: bids[i]?.price ?? 0,
        bid_size: bids[i]?.size ?? 0,
        ask_price: asks[i]?.price ?? 0,
        ask_size: asks[i]?.size ?? 0,
      });
    }
    rows.push({
      market: m.code,
      timestamp: book.timestampMs,
      total_ask_size: roundTo(asks.reduce((s, a) => s + a.size, 0), SIZE_DIGITS),
      total_bid_size: roundTo(bids.reduce((s, b) => s + b.size, 0), SIZE_DIGITS),
      orderbook_units: units,
      level,
    });
  }
  return writeJson(rows);
}

/** Levels merged into buckets of `level` quote units (asks rounded up, bids down), order kept. */
function aggregate(side: readonly BookSide[], level: number, toBucket: (x: number) => number): BookSide[] {
  const out: BookSide[] = [];
  for (const { price, size } of side) {
    const bucket = roundTo(toBucket(roundTo(price / level, 9)) * level, 10);
    const last = out[out.length - 1];
    if (last && last.price === bucket) out[out.length - 1] = { price: bucket, size: roundTo(last.size + size, SIZE_DIGITS) };
    else out.push({ price: bucket, size });
  }
  return out;
}

function instruments(marketOrThrow: (code: string) => SimMarket, query: URLSearchParams): string {
  const markets = parseCodeList(requiredParam(query, "markets")).map(marketOrThrow);
  return writeJson(
    markets.map((m) => ({
      market: m.code,
      quote_currency: m.quote,
      tick_size: plainNumberText(m.tickSize),
      supported_levels: [...m.supportedLevels],
    })),
  );
}

function supportedLevels(marketOrThrow: (code: string) => SimMarket, query: URLSearchParams): string {
  const markets = parseCodeList(requiredParam(query, "markets")).map(marketOrThrow);
  return writeJson(markets.map((m) => ({ market: m.code, supported_levels: m.supportedLevels.map(Number) })));
}

// ---------------------------------------------------------------------------------------------
// /v1/trades/ticks

function tradeTicks(
  exchange: SyntheticExchange,
  marketOrThrow: (code: string) => SimMarket,
  query: URLSearchParams,
  nowMs: number,
): string {
  const code = normalizeCode(requiredParam(query, "market"));
  const countText = optionalParam(query, "count");
  const count = countText === undefined ? TRADE_COUNT_DEFAULT : parseIntParam(countText);
  if (count < 1 || count > TRADE_COUNT_MAX) throw invalidParameter();
  const daysAgoText = optionalParam(query, "days_ago", "daysAgo");
  const daysAgo = daysAgoText === undefined ? 0 : parseIntParam(daysAgoText);
  if (daysAgoText !== undefined && (daysAgo < 1 || daysAgo > TRADE_DAYS_AGO_MAX)) throw invalidParameter();
  const toText = optionalParam(query, "to");
  const toInDayMs = toText === undefined ? undefined : parseTradeTo(toText);
  const cursorText = optionalParam(query, "cursor");
  const cursor = cursorText === undefined ? undefined : parseCursor(cursorText);
  const market = marketOrThrow(code);

  const dayStart = bucketStart("1d", nowMs) - daysAgo * DAY_MS;
  let endMs = Math.min(dayStart + DAY_MS, nowMs + 1);
  if (toInDayMs !== undefined) endMs = Math.min(endMs, dayStart + toInDayMs);
  // sequential_id = trade ms × 10000 + n, so a cursor bounds the time as well as the id.
  if (cursor !== undefined) endMs = Math.min(endMs, Number(cursor / 10_000n) + 1);
  const startMs = Math.max(dayStart, market.listedAtMs);

  const picked = newestTrades(exchange, market, startMs, endMs, count, cursor);
  if (picked.length === 0) return "[]";
  const prevClose = previousDayClose(exchange, market.code, dayStart) ?? picked[picked.length - 1]!.price;
  return writeJson(
    picked.map((t) => ({
      market: market.code,
      trade_date_utc: utcDateText(t.timestampMs),
      trade_time_utc: utcTimeText(t.timestampMs),
      timestamp: t.timestampMs,
      trade_price: amount(t.price),
      trade_volume: amount(t.volume),
      prev_closing_price: amount(prevClose),
      change_price: amount(roundTo(t.price - prevClose, SIZE_DIGITS)),
      ask_bid: t.askBid,
      sequential_id: t.sequentialId,
    })),
  );
}

/**
 * Up to `count` trades in `[startMs, endMs)` below `cursor`, newest first. Reads backwards in
 * widening windows sized from the market's trade rate, so a busy market's last trades do not
 * cost a whole day of trades.
 */
function newestTrades(
  exchange: SyntheticExchange,
  market: SimMarket,
  startMs: number,
  endMs: number,
  count: number,
  cursor: bigint | undefined,
): SimTrade[] {
  const picked: SimTrade[] = [];
  const perMs = Math.max(market.tradesPerMinute, 0.001) / 60_000;
  let span = Math.min(DAY_MS, Math.max(TRADE_WINDOW_MIN_MS, (count * TRADE_WINDOW_SLACK) / perMs));
  let end = endMs;
  while (picked.length < count && end > startMs) {
    const from = Math.max(startMs, end - span);
    const batch = exchange.trades(market.code, from, end);
    for (let i = batch.length - 1; i >= 0 && picked.length < count; i--) {
      const t = batch[i]!;
      if (cursor === undefined || t.sequentialId < cursor) picked.push(t);
    }
    end = from;
    span *= TRADE_WINDOW_GROWTH;
  }
  return picked;
}

/**
 * Close of the last UTC day before `dayStart` with trades; on a market's first day, that day's
 * opening price (there is nothing to compare with).
 */
function previousDayClose(exchange: SyntheticExchange, code: string, dayStart: number): number | undefined {
  const previous = exchange.candles(code, "1d", dayStart, 1)[0];
  if (previous) return previous.close;
  const today = exchange.candles(code, "1d", dayStart + DAY_MS, 1)[0];
  return today?.timeMs === dayStart ? today.open : undefined;
}
