import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { Pool, type Dispatcher } from "undici";
import { InvalidArgumentError } from "../../shared/errors.js";
import { silentLogger, type Logger } from "../../shared/logger.js";
import { checkMarketCode } from "../../shared/market-code.js";
import { MAX_TIME_MS, SECOND_MS } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import { blockDurationMs, parseRemainingReq, RateLimiter, type Priority, type RateLimiterOptions, type RatePermit, type ScheduleFn } from "./rate-limiter.js";
import {
  MARKET_ALL_PATH,
  ORDERBOOK_INSTRUMENTS_PATH,
  ORDERBOOK_PATH,
  TICKER_ALL_PATH,
  TICKER_PATH,
  TRADES_PATH,
  parseCandles,
  parseMarkets,
  parseOrderbookInstruments,
  parseOrderbooks,
  parseTickers,
  parseTrades,
  parseUpbitError,
} from "./upbit-rest-parsers.js";
import { DEFAULT_REST_URL } from "./upstream-config.js";
import type { UpbitCandle, UpbitMarket, UpbitOrderbook, UpbitOrderbookInstrument, UpbitTicker, UpbitTrade } from "./upbit-types.js";
import {
  UpstreamAbortError,
  UpstreamBadRequestError,
  UpstreamBlockedError,
  UpstreamHttpError,
  UpstreamNotFoundError,
  UpstreamProtocolError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  isAbortError,
  isUpstreamBlockedError,
  isUpstreamProtocolError,
  type UpbitErrorBody,
} from "./upstream-errors.js";

/**
 * Upbit's quotation REST API (`/v1/...`) over one keep-alive undici pool, inside Upbit's rate
 * limits (see rate-limiter.ts), with retries for what may pass (5xx, 429, network errors) and
 * typed errors for what will not. Every reply is checked by its endpoint's parser.
 *
 * Retries are bounded by time, not by a count: a call keeps trying until it succeeds, its signal
 * aborts (the gRPC call's deadline or cancellation) or `retryWindowMs` has passed. So a storm
 * shorter than the caller's patience is invisible to it, whatever its length in attempts; every
 * attempt still waits for the rate limiter, so retrying never goes over Upbit's limits.
 */

/** Upbit's rate groups as named in `Remaining-Req` (`group=candles`, `group=crix-trades`, ...). */
export type UpbitRateGroup = "market" | "candles" | "crix-trades" | "ticker" | "orderbook";
export const UPBIT_RATE_GROUPS: readonly UpbitRateGroup[] = ["market", "candles", "crix-trades", "ticker", "orderbook"];

/** Upbit's page size for candles. */
export const MAX_CANDLE_COUNT = 200;
export const MAX_TRADE_COUNT = 500;
export const MAX_ORDERBOOK_DEPTH = 30;
export const MAX_DAYS_AGO = 7;
/** Longer than any 5xx storm or 429 pause Upbit is known for; shorter than a patient client's deadline. */
export const DEFAULT_RETRY_WINDOW_MS = 30_000;

/**
 * What happened to one request, for metrics: `request` for every request sent (retries
 * included), `429` and `418` for those replies, `error` for a request that got no usable answer
 * (network failure, unreadable reply, 5xx), `retry` each time the client tries again.
 */
export type UpstreamEventKind = "request" | "429" | "418" | "retry" | "error";

export interface UpstreamEvent {
  readonly group: UpbitRateGroup;
  readonly endpoint: string;
  readonly kind: UpstreamEventKind;
}

export type UpstreamEventListener = (event: UpstreamEvent) => void;

export interface CallOptions {
  /** Who is waiting: decides the order in the rate limiter queue and the share of the budget. */
  priority: Priority;
  /** Aborts waiting in the queue, the request in flight and any retry backoff. */
  signal?: AbortSignal;
  /** This call's retry window when it must differ from the client's (`retryWindowMs`). */
  retryWindowMs?: number;
}

export interface CandleQuery {
  /** Exclusive end, UTC ms: candles starting before it. Absent: the latest, including the forming one. */
  to?: number;
  /** 1..200. */
  count: number;
}

export interface OrderbookQuery {
  /** Levels per side, 1..30. Default Upbit's (30). */
  count?: number;
  /** Price aggregation unit (KRW markets), e.g. 100000 or "0.1"; 0 = native tick. Default 0. */
  level?: number | string;
}

export interface TradeQuery {
  /** 1..500. */
  count: number;
  /** A `sequential_id` from an earlier reply: the trades before that one. */
  cursor?: bigint | string;
  /** 1..7: which UTC day back to read. Absent: today (UTC). */
  daysAgo?: number;
  /** End time within that UTC day, `HHmmss` or `HH:mm:ss` (UTC). */
  to?: string;
}

export interface UpbitRestClientOptions {
  /** Upbit REST origin, optionally with a path prefix, without `/v1`. Default `https://api.upbit.com`. */
  baseUrl?: string;
  /** A limiter shared with other clients of the same IP. Default: a new one built from `rateLimit`. */
  limiter?: RateLimiter;
  /** Options of the limiter built when `limiter` is not given. Default Upbit's limits (10/s per group). */
  rateLimit?: RateLimiterOptions;
  /**
   * How long a call keeps retrying after a 5xx, 429 or network error, from its first attempt: no
   * retry is started that could not begin inside it. Default 30,000 ms (DEFAULT_RETRY_WINDOW_MS).
   */
  retryWindowMs?: number;
  /** At most this many retries per call besides the window (so maxRetries + 1 requests). Default unbounded. */
  maxRetries?: number;
  /** First retry delay after a 5xx or network error; doubles per retry, with jitter. Default 250 ms. */
  retryBaseDelayMs?: number;
  /** Longest retry delay (before jitter). Default 4,000 ms. */
  retryMaxDelayMs?: number;
  /** Longest wait for the reply headers, and for each piece of the body. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Longest wait for a TCP/TLS connection. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Keep-alive connections in the pool. Default 16. */
  connections?: number;
  /** Idle keep-alive connections are closed after this. Default 30,000 ms. */
  keepAliveTimeoutMs?: number;
  /** Largest reply body accepted (after gunzip); bigger is a protocol error. Default 32 MiB. */
  maxBodyBytes?: number;
  /** Clock, epoch ms; shared with the limiter built here. Default `Date.now`. */
  now?: () => number;
  /** Timer for retry backoff; shared with the limiter built here. Default `setTimeout`. */
  schedule?: ScheduleFn;
  /** Jitter source in [0, 1); shared with the limiter built here. Default `Math.random`. */
  random?: () => number;
  /** Default silent. */
  logger?: Logger;
  /** Told of every request and its outcome (metrics); more listeners can be added with `observe`. */
  onEvent?: UpstreamEventListener;
}

interface CallSpec {
  /** Path without the base prefix, e.g. `/v1/candles/days`; names the endpoint in errors. */
  readonly endpoint: string;
  readonly group: UpbitRateGroup;
  readonly query: ReadonlyArray<readonly [string, string]>;
}

interface Reply {
  status: number;
  headers: Dispatcher.ResponseData["headers"];
  text: string;
}

const CANDLE_PATHS: Readonly<Record<Timeframe, string>> = {
  "1s": "/v1/candles/seconds",
  "1m": "/v1/candles/minutes/1",
  "3m": "/v1/candles/minutes/3",
  "5m": "/v1/candles/minutes/5",
  "10m": "/v1/candles/minutes/10",
  "15m": "/v1/candles/minutes/15",
  "30m": "/v1/candles/minutes/30",
  "60m": "/v1/candles/minutes/60",
  "240m": "/v1/candles/minutes/240",
  "1d": "/v1/candles/days",
  "1w": "/v1/candles/weeks",
  "1mo": "/v1/candles/months",
  "1y": "/v1/candles/years",
};

/** Errors worth another attempt: the connection, not the request, failed. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

const QUOTE_CURRENCY = /^[A-Z]{2,10}$/;
const TRADE_TO = /^([01]\d|2[0-3]):?([0-5]\d):?([0-5]\d)$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const gunzipAsync = promisify(gunzip);

const defaultSchedule: ScheduleFn = (callback, delayMs) => {
  const handle = setTimeout(callback, delayMs);
  return () => clearTimeout(handle);
};

export class UpbitRestClient {
  readonly limiter: RateLimiter;
  private readonly ownsLimiter: boolean;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly maxRetries: number;
  private readonly retryWindowMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly now: () => number;
  private readonly schedule: ScheduleFn;
  private readonly random: () => number;
  private readonly log: Logger;
  private closed = false;
  private sent = 0;
  private readonly listeners = new Set<UpstreamEventListener>();

  constructor(options: UpbitRestClientOptions = {}) {
    const base = new URL(options.baseUrl ?? DEFAULT_REST_URL);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new RangeError(`baseUrl must be http(s): ${base.href}`);
    this.basePath = base.pathname.replace(/\/+$/, "");
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? defaultSchedule;
    this.random = options.random ?? Math.random;
    this.ownsLimiter = options.limiter === undefined;
    this.limiter = options.limiter ?? new RateLimiter({ now: this.now, schedule: this.schedule, random: this.random, ...options.rateLimit });
    this.maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    this.retryWindowMs = options.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 4_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.log = options.logger ?? silentLogger;
    if (options.onEvent !== undefined) this.listeners.add(options.onEvent);
    if (!(Number.isInteger(this.maxRetries) || this.maxRetries === Number.POSITIVE_INFINITY) || this.maxRetries < 0) {
      throw new RangeError("maxRetries must be an integer >= 0");
    }
    if (!(this.retryWindowMs >= 0)) throw new RangeError("retryWindowMs must be >= 0");
    this.pool = new Pool(base.origin, {
      connections: options.connections ?? 16,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      connect: { timeout: options.connectTimeoutMs ?? 5_000 },
    });
  }

  /** `GET /v1/market/all`; `details` adds the warning/caution flags. */
  async listMarkets(details: boolean, options: CallOptions): Promise<UpbitMarket[]> {
    const spec: CallSpec = { endpoint: MARKET_ALL_PATH, group: "market", query: [["is_details", String(details)]] };
    return this.call(spec, options, (text) => parseMarkets(text, spec.endpoint));
  }

  /** Candles of one market, newest first as Upbit sends them; buckets without trades are absent. */
  async candles(market: string, tf: Timeframe, query: CandleQuery, options: CallOptions): Promise<UpbitCandle[]> {
    checkMarketCode(market, "market");
    if (!Object.hasOwn(CANDLE_PATHS, tf)) throw new InvalidArgumentError("timeframe", String(tf), "is not a timeframe");
    const endpoint = CANDLE_PATHS[tf];
    checkCount("count", query.count, MAX_CANDLE_COUNT);
    const params: Array<[string, string]> = [
      ["market", market],
      ["count", String(query.count)],
    ];
    if (query.to !== undefined) params.push(["to", candleTo(query.to)]);
    const spec: CallSpec = { endpoint, group: "candles", query: params };
    return this.call(spec, options, (text) => parseCandles(text, endpoint));
  }

  /** `GET /v1/ticker`. One unknown code fails the whole call with UpstreamNotFoundError. */
  async tickers(markets: readonly string[], options: CallOptions): Promise<UpbitTicker[]> {
    const spec: CallSpec = { endpoint: TICKER_PATH, group: "ticker", query: [["markets", marketList(markets)]] };
    return this.call(spec, options, (text) => parseTickers(text, spec.endpoint));
  }

  /** `GET /v1/ticker/all`: every pair of the given quote currencies (`KRW`, `BTC`, `USDT`). */
  async tickersByQuote(quotes: readonly string[], options: CallOptions): Promise<UpbitTicker[]> {
    if (quotes.length === 0) throw new InvalidArgumentError("quotes", "[]", "must name at least one quote currency");
    for (const q of quotes) {
      if (!QUOTE_CURRENCY.test(q)) throw new InvalidArgumentError("quotes", JSON.stringify(q), "is not a quote currency such as KRW");
    }
    const spec: CallSpec = { endpoint: TICKER_ALL_PATH, group: "ticker", query: [["quote_currencies", quotes.join(",")]] };
    return this.call(spec, options, (text) => parseTickers(text, spec.endpoint));
  }

  /** `GET /v1/orderbook`. Upbit answers `[]` for a `level` the market does not support. */
  async orderbooks(markets: readonly string[], query: OrderbookQuery, options: CallOptions): Promise<UpbitOrderbook[]> {
    const params: Array<[string, string]> = [["markets", marketList(markets)]];
    if (query.count !== undefined) params.push(["count", String(checkCount("count", query.count, MAX_ORDERBOOK_DEPTH))]);
    if (query.level !== undefined) params.push(["level", orderbookLevel(query.level)]);
    const spec: CallSpec = { endpoint: ORDERBOOK_PATH, group: "orderbook", query: params };
    return this.call(spec, options, (text) => parseOrderbooks(text, spec.endpoint));
  }

  /** `GET /v1/orderbook/instruments`: tick size and supported `level`s per market. */
  async orderbookInstruments(markets: readonly string[], options: CallOptions): Promise<UpbitOrderbookInstrument[]> {
    const spec: CallSpec = { endpoint: ORDERBOOK_INSTRUMENTS_PATH, group: "orderbook", query: [["markets", marketList(markets)]] };
    return this.call(spec, options, (text) => parseOrderbookInstruments(text, spec.endpoint));
  }

  /** `GET /v1/trades/ticks`: recent trades of one market, newest first. */
  async trades(market: string, query: TradeQuery, options: CallOptions): Promise<UpbitTrade[]> {
    checkMarketCode(market, "market");
    checkCount("count", query.count, MAX_TRADE_COUNT);
    const params: Array<[string, string]> = [
      ["market", market],
      ["count", String(query.count)],
    ];
    if (query.to !== undefined) {
      if (!TRADE_TO.test(query.to)) throw new InvalidArgumentError("to", JSON.stringify(query.to), "must be HHmmss or HH:mm:ss (UTC)");
      params.push(["to", query.to]);
    }
    if (query.cursor !== undefined) {
      const cursor = String(query.cursor);
      if (!/^\d+$/.test(cursor)) throw new InvalidArgumentError("cursor", cursor, "must be a sequential_id (digits)");
      params.push(["cursor", cursor]);
    }
    if (query.daysAgo !== undefined) params.push(["days_ago", String(checkCount("daysAgo", query.daysAgo, MAX_DAYS_AGO))]);
    const spec: CallSpec = { endpoint: TRADES_PATH, group: "crix-trades", query: params };
    return this.call(spec, options, (text) => parseTrades(text, spec.endpoint));
  }

  /** Requests sent to Upbit since this client was made, retries included. */
  get requestsSent(): number {
    return this.sent;
  }

  /** Calls `listener` with every request's events from now on; returns the function that stops it. */
  observe(listener: UpstreamEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fails waiting and in-flight calls and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsLimiter) this.limiter.close();
    await this.pool.destroy();
  }

  private async call<T>(spec: CallSpec, options: CallOptions, parse: (text: string) => T): Promise<T> {
    const { priority, signal } = options;
    let attempts = 0;
    const retryUntil = this.now() + (options.retryWindowMs ?? this.retryWindowMs);
    /** Whether another attempt may start after waiting `waitMs`. */
    const mayRetry = (waitMs: number) => attempts <= this.maxRetries && this.now() + waitMs <= retryUntil;
    for (;;) {
      if (signal?.aborted) throw new UpstreamAbortError(signal.reason);
      if (this.closed) throw new UpstreamUnavailableError(spec.endpoint, "client closed", attempts);
      let permit: RatePermit;
      try {
        permit = await this.limiter.acquire(spec.group, priority, signal);
      } catch (e) {
        // Name the endpoint; the limiter only knows the group.
        if (isUpstreamBlockedError(e)) throw new UpstreamBlockedError(spec.endpoint, e.group, e.retryAtMs);
        throw e;
      }
      attempts++;
      this.sent++;
      this.tell(spec, "request");
      let reply: Reply;
      try {
        reply = await this.send(spec, signal);
      } catch (e) {
        this.limiter.release(permit);
        if (signal?.aborted) throw new UpstreamAbortError(signal.reason);
        this.tell(spec, "error");
        if (isUpstreamProtocolError(e)) throw e;
        const code = errorCode(e);
        const problem = `${code ?? (e instanceof Error ? e.name : "error")}: ${e instanceof Error ? e.message : String(e)}`;
        const delayMs = this.backoffMs(attempts);
        if (code === undefined || !RETRYABLE_CODES.has(code) || !mayRetry(delayMs)) {
          throw new UpstreamUnavailableError(spec.endpoint, problem, attempts, undefined, { cause: e });
        }
        this.log.warn("upbit request failed; retrying", { endpoint: spec.endpoint, attempts, problem });
        this.tell(spec, "retry");
        await this.sleep(delayMs, signal);
        continue;
      }

      // Each branch reports the reply to the limiter first, which also releases the slot.
      const { status } = reply;
      if (status === 429) {
        const pausedUntil = this.limiter.onRateLimited(permit);
        this.tell(spec, "429");
        this.log.warn("upbit rate limited (429); group paused", { endpoint: spec.endpoint, group: spec.group, attempts, pausedUntil });
        if (!mayRetry(pausedUntil - this.now())) throw new UpstreamRateLimitedError(spec.endpoint, parseUpbitError(reply.text), attempts);
        this.tell(spec, "retry");
        continue; // the limiter holds the retry until the group's pause ends
      }
      if (status === 418) {
        this.tell(spec, "418");
        const upbitError = parseUpbitError(reply.text);
        const duration = blockDurationMs(upbitError?.message ?? reply.text.slice(0, 500), header(reply.headers, "retry-after"), this.now());
        const retryAtMs = this.limiter.onBlocked(permit, duration);
        this.log.error("upbit blocked this IP (418)", { endpoint: spec.endpoint, group: spec.group, retryAtMs, message: upbitError?.message });
        throw new UpstreamBlockedError(spec.endpoint, spec.group, retryAtMs, upbitError);
      }
      this.limiter.onReply(permit, parseRemainingReq(header(reply.headers, "remaining-req"))?.sec);
      if (status >= 200 && status < 300) return parse(reply.text);
      const upbitError = parseUpbitError(reply.text);
      if (status >= 500) {
        this.tell(spec, "error");
        const delayMs = this.backoffMs(attempts);
        if (!mayRetry(delayMs)) {
          throw new UpstreamUnavailableError(spec.endpoint, `HTTP ${status}${describeUpbitError(upbitError)}`, attempts, status);
        }
        this.log.warn("upbit server error; retrying", { endpoint: spec.endpoint, status, attempts });
        this.tell(spec, "retry");
        await this.sleep(delayMs, signal);
        continue;
      }
      // Quotation errors carry the status as a number; an unknown route says "not_found" instead.
      if (status === 404 && (upbitError?.name === 404 || upbitError?.message === "Code not found")) {
        throw new UpstreamNotFoundError(spec.endpoint, status, upbitError);
      }
      if (status >= 400) throw new UpstreamBadRequestError(spec.endpoint, status, upbitError);
      throw new UpstreamHttpError(spec.endpoint, status, upbitError);
    }
  }

  private tell(spec: CallSpec, kind: UpstreamEventKind): void {
    for (const listener of this.listeners) {
      try {
        listener({ group: spec.group, endpoint: spec.endpoint, kind });
      } catch {
        // An observer's failure must not change what the call does.
      }
    }
  }

  /** One request; resolves with any status, rejects on network errors and unreadable bodies. */
  private async send(spec: CallSpec, signal: AbortSignal | undefined): Promise<Reply> {
    const query = spec.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    const res = await this.pool.request({
      method: "GET",
      path: `${this.basePath}${spec.endpoint}${query === "" ? "" : `?${query}`}`,
      // No Origin header: Upbit counts requests carrying one against a 1-per-10-s budget.
      headers: { accept: "application/json", "accept-encoding": "gzip" },
      signal,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    });
    let body = await readBody(res.body, this.maxBodyBytes, spec.endpoint);
    const encoding = header(res.headers, "content-encoding")?.trim().toLowerCase();
    if (encoding === "gzip" || encoding === "x-gzip") {
      try {
        body = await gunzipAsync(body, { maxOutputLength: this.maxBodyBytes });
      } catch (e) {
        throw new UpstreamProtocolError(spec.endpoint, "body", `is not valid gzip: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else if (encoding !== undefined && encoding !== "identity") {
      throw new UpstreamProtocolError(spec.endpoint, "body", `has content-encoding ${encoding}, which was not asked for`);
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new UpstreamProtocolError(spec.endpoint, "body", "is not UTF-8");
    }
    return { status: res.statusCode, headers: res.headers, text };
  }

  /** Exponential delay with equal jitter: half fixed, half random. */
  private backoffMs(attempt: number): number {
    const delay = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** Math.min(30, attempt - 1));
    return delay / 2 + (delay / 2) * this.random();
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new UpstreamAbortError(signal.reason));
        return;
      }
      const onAbort = () => {
        cancel();
        reject(new UpstreamAbortError(signal?.reason));
      };
      const cancel = this.schedule(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Reads the whole body, refusing more than `maxBytes`. */
async function readBody(body: Dispatcher.ResponseData["body"], maxBytes: number, endpoint: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new UpstreamProtocolError(endpoint, "body", `exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function header(headers: Dispatcher.ResponseData["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Node/undici error code of `e` or of its causes (undici wraps socket errors). */
function errorCode(e: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof e !== "object" || e === null) return undefined;
  if (isAbortError(e)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return code;
  if (e instanceof AggregateError) return errorCode(e.errors[0], depth + 1);
  return errorCode((e as { cause?: unknown }).cause, depth + 1);
}

function describeUpbitError(error: UpbitErrorBody | undefined): string {
  return error === undefined ? "" : ` ${String(error.name)}: ${error.message}`;
}

function checkCount(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(field, String(value), `must be an integer from 1 to ${max}`);
  }
  return value;
}

function marketList(markets: readonly string[]): string {
  if (markets.length === 0) throw new InvalidArgumentError("markets", "[]", "must name at least one market");
  for (const m of markets) checkMarketCode(m, "markets");
  return markets.join(",");
}

/**
 * `to` as Upbit's `yyyy-MM-ddTHH:mm:ssZ`. Upbit takes whole seconds, so a fractional `to` is
 * rounded up: every bucket starts on a whole second, hence "start < to" selects the same buckets.
 */
function candleTo(to: number): string {
  if (!Number.isFinite(to) || to <= 0 || to > MAX_TIME_MS) {
    throw new InvalidArgumentError("to", String(to), "must be UTC epoch milliseconds");
  }
  return new Date(Math.ceil(to / SECOND_MS) * SECOND_MS).toISOString().replace(/\.000Z$/, "Z");
}

function orderbookLevel(level: number | string): string {
  const text = typeof level === "number" ? String(level) : level;
  // String(1e-7) is "1e-7": exponent forms are refused rather than sent.
  if (!DECIMAL.test(text)) throw new InvalidArgumentError("level", text, "must be a non-negative decimal, e.g. 100000 or 0.1");
  return text;
}
