/**
 * Test helpers for the simulated Upbit WebSocket: a small deterministic fake exchange (so the
 * WebSocket side can be tested without the real synthetic exchange), a local HTTP server that
 * routes upgrades to the API, and a `ws` client that queues what it receives so tests can await
 * messages and events instead of sleeping.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { bucketStart, fixedBucketMs } from "../../../src/shared/time.js";
import type { Timeframe } from "../../../src/shared/timeframe.js";
import type {
  SimCandle,
  SimMarket,
  SimOrderbook,
  SimTicker,
  SimTrade,
  SyntheticExchange,
} from "../../../src/upbit-sim/exchange-model.js";
import { createWebSocketApi, type WebSocketApi, type WebSocketApiOptions } from "../../../src/upbit-sim/websocket-api.js";

/** 2026-03-11 00:02:00 UTC: two minutes into a UTC day keeps the fake's day sums small. */
export const T0 = Date.UTC(2026, 2, 11, 0, 2, 0);

export interface FakeMarketSpec {
  code: string;
  /** A trade every this many ms (every third one has a twin in the same millisecond). */
  periodMs: number;
  /** Phase of the trade grid, ms. */
  offsetMs: number;
  price: number;
  tick: number;
  warning?: boolean;
  supportedLevels?: string[];
}

export const FAKE_MARKETS: readonly FakeMarketSpec[] = [
  { code: "KRW-BTC", periodMs: 200, offsetMs: 7, price: 100_000_000, tick: 1_000, supportedLevels: ["0", "10000", "100000"] },
  { code: "KRW-ETH", periodMs: 300, offsetMs: 11, price: 3_700_000, tick: 1_000, supportedLevels: ["0", "10000"] },
  { code: "KRW-XRP", periodMs: 500, offsetMs: 13, price: 3_000, tick: 1, warning: true },
  { code: "BTC-ETH", periodMs: 700, offsetMs: 17, price: 0.037, tick: 0.00000001 },
  { code: "USDT-BTC", periodMs: 1_100, offsetMs: 19, price: 70_000, tick: 0.01 },
];

const BOOK_GRID_MS = 100;
const MAX_TRADES_PER_QUERY = 200_000;

const round8 = (x: number): number => Number(x.toFixed(8));

/** The deterministic fake: trades on a fixed grid per market, a book that changes every 100 ms. */
export interface FakeExchange extends SyntheticExchange {
  /** Resolves once `trades()` has been asked for a range reaching past `ms` (a feed tick ran). */
  tradesQueriedPast(ms: number): Promise<void>;
}

export function createFakeExchange(now: () => number, specs: readonly FakeMarketSpec[] = FAKE_MARKETS): FakeExchange {
  const byCode = new Map(specs.map((s) => [s.code, s]));
  const markets: SimMarket[] = specs.map((s) => ({
    code: s.code,
    quote: s.code.split("-")[0] as SimMarket["quote"],
    base: s.code.split("-")[1] ?? "",
    koreanName: s.code,
    englishName: s.code,
    tradesPerMinute: 60_000 / s.periodMs,
    referencePrice: s.price,
    tickSize: s.tick,
    supportedLevels: s.supportedLevels ?? ["0"],
    listedAtMs: 0,
    warning: s.warning ?? false,
    caution: {
      PRICE_FLUCTUATIONS: false,
      TRADING_VOLUME_SOARING: false,
      DEPOSIT_AMOUNT_SOARING: false,
      GLOBAL_PRICE_DIFFERENCES: false,
      CONCENTRATION_OF_SMALL_ACCOUNTS: false,
    },
  }));
  const waiters: { ms: number; resolve: () => void }[] = [];

  const priceAt = (s: FakeMarketSpec, k: number): number =>
    Number((Math.round((s.price * (1 + 0.002 * (((k * 7919) % 11) - 5))) / s.tick) * s.tick).toPrecision(12));

  const tradesOf = (s: FakeMarketSpec, k: number): SimTrade[] => {
    const t = s.offsetMs + k * s.periodMs;
    const n = k % 3 === 0 ? 2 : 1;
    const out: SimTrade[] = [];
    for (let i = 0; i < n; i++) {
      out.push({
        market: s.code,
        timestampMs: t,
        price: priceAt(s, k + i),
        volume: round8(0.0001 * (1 + ((k + i) % 13))),
        askBid: (k + i) % 2 === 0 ? "BID" : "ASK",
        sequentialId: BigInt(t) * 10_000n + BigInt(i),
      });
    }
    return out;
  };

  const trades = (code: string, fromMs: number, toMs: number): SimTrade[] => {
    const s = byCode.get(code);
    const end = Math.min(toMs, now() + 1);
    for (const w of waiters.splice(0)) {
      if (toMs - 1 >= w.ms) w.resolve();
      else waiters.push(w);
    }
    if (!s || end <= fromMs) return [];
    const first = Math.ceil((fromMs - s.offsetMs) / s.periodMs);
    const last = Math.floor((end - 1 - s.offsetMs) / s.periodMs);
    if (last - first > MAX_TRADES_PER_QUERY) throw new Error("fake exchange: range too large");
    const out: SimTrade[] = [];
    for (let k = Math.max(first, 0); k <= last; k++) out.push(...tradesOf(s, k));
    return out;
  };

  const aggregate = (list: readonly SimTrade[], timeMs: number): SimCandle | undefined => {
    const first = list[0];
    const lastTrade = list[list.length - 1];
    if (!first || !lastTrade) return undefined;
    let high = first.price;
    let low = first.price;
    let volume = 0;
    let quoteVolume = 0;
    for (const t of list) {
      high = Math.max(high, t.price);
      low = Math.min(low, t.price);
      volume += t.volume;
      quoteVolume += t.price * t.volume;
    }
    return {
      timeMs,
      open: first.price,
      high,
      low,
      close: lastTrade.price,
      volume: round8(volume),
      quoteVolume: round8(quoteVolume),
      lastTradeMs: lastTrade.timestampMs,
      tradeCount: list.length,
    };
  };

  const ticker = (code: string, atMs: number): SimTicker | undefined => {
    const s = byCode.get(code);
    const at = Math.min(atMs, now());
    if (!s) return undefined;
    const dayStart = bucketStart("1d", at);
    const today = trades(code, dayStart, at + 1);
    const lastTrade = today[today.length - 1];
    const todayCandle = aggregate(today, dayStart);
    if (!lastTrade || !todayCandle) return undefined;
    const prevK = Math.floor((dayStart - 1 - s.offsetMs) / s.periodMs);
    let ask = 0;
    let bid = 0;
    for (const t of today) {
      if (t.askBid === "ASK") ask += t.volume;
      else bid += t.volume;
    }
    return {
      market: code,
      lastTrade,
      today: todayCandle,
      prevClosingPrice: priceAt(s, prevK + (prevK % 3 === 0 ? 1 : 0)),
      accTradePrice24h: todayCandle.quoteVolume * 3,
      accTradeVolume24h: round8(todayCandle.volume * 3),
      accAskVolume: round8(ask),
      accBidVolume: round8(bid),
      highest52WeekPrice: s.price * 2,
      highest52WeekDateMs: Date.UTC(2025, 9, 6),
      lowest52WeekPrice: s.price / 2,
      lowest52WeekDateMs: Date.UTC(2025, 3, 7),
    };
  };

  const orderbook = (code: string, atMs: number, depth: number): SimOrderbook => {
    const s = byCode.get(code);
    const at = Math.min(atMs, now());
    const ts = Math.floor(at / BOOK_GRID_MS) * BOOK_GRID_MS;
    if (!s) return { market: code, timestampMs: ts, units: [] };
    const k = Math.floor((ts - s.offsetMs) / s.periodMs);
    const mid = priceAt(s, k);
    const units = [];
    for (let i = 0; i < Math.min(Math.max(depth, 1), 30); i++) {
      units.push({
        askPrice: Number((mid + (i + 1) * s.tick).toPrecision(12)),
        askSize: round8(0.01 * (1 + ((ts / BOOK_GRID_MS + i) % 5))),
        bidPrice: Number((mid - i * s.tick).toPrecision(12)),
        bidSize: round8(0.02 * (1 + ((ts / BOOK_GRID_MS + 2 * i) % 7))),
      });
    }
    return { market: code, timestampMs: ts, units };
  };

  const candles = (code: string, tf: Timeframe, toMs: number, count: number): SimCandle[] => {
    const len = fixedBucketMs(tf);
    if (len === undefined || !byCode.has(code)) return [];
    const end = Math.min(toMs, now() + 1);
    const out: SimCandle[] = [];
    for (let b = bucketStart(tf, end - 1), scanned = 0; out.length < count && scanned < 1_000; b -= len, scanned++) {
      const c = aggregate(trades(code, b, Math.min(b + len, end)), b);
      if (c) out.push(c);
    }
    return out;
  };

  return {
    markets,
    market: (code) => markets.find((m) => m.code === code),
    candles,
    trades,
    ticker,
    orderbook,
    tradesQueriedPast: (ms) => new Promise((resolve) => waiters.push({ ms, resolve })),
  };
}

/** A message as the client got it: the raw JSON text and its parse. */
export interface ReceivedMessage {
  readonly text: string;
  readonly json: unknown;
  readonly isBinary: boolean;
}

export const WAIT_MS = 5_000;

/** A `ws` client that queues messages so a test can await them one by one. */
export class WsTestClient {
  private readonly queue: ReceivedMessage[] = [];
  private readonly waiters: ((m: ReceivedMessage) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
      const m: ReceivedMessage = { text, json: JSON.parse(text) as unknown, isBinary };
      const waiter = this.waiters.shift();
      if (waiter) waiter(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string): Promise<WsTestClient> {
    const ws = new WebSocket(url);
    const client = new WsTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** The next message; rejects after `timeoutMs` so a broken server fails the test, not hangs it. */
  next(timeoutMs = WAIT_MS): Promise<ReceivedMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(onMessage);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: ReceivedMessage): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push(onMessage);
    });
  }

  /** The next `n` messages. */
  async take(n: number): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }

  /** The next `n` data messages, skipping `{"status":"UP"}` heartbeats. */
  async takeData(n: number, limit = 100_000): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    for (let i = 0; i < limit && out.length < n; i++) {
      const m = await this.next();
      if (!isStatusUp(m.json)) out.push(m);
    }
    if (out.length < n) throw new Error(`only ${out.length} of ${n} data messages`);
    return out;
  }

  /** Messages up to and including the first one matching `stop` (at most `limit`). */
  async until(stop: (m: ReceivedMessage) => boolean, limit = 10_000): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    for (let i = 0; i < limit; i++) {
      const m = await this.next();
      out.push(m);
      if (stop(m)) return out;
    }
    throw new Error(`no matching message within ${limit} messages`);
  }

  /**
   * Everything the server sent before now: a text PING's `UP` reply travels behind all earlier
   * frames on the same connection, so it marks the end of what was already sent.
   */
  async drain(): Promise<ReceivedMessage[]> {
    this.send("PING");
    const out = await this.until((m) => isStatusUp(m.json));
    return out.slice(0, -1);
  }

  /** Messages already received and not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    this.ws.terminate();
  }
}

export function isStatusUp(json: unknown): boolean {
  return typeof json === "object" && json !== null && (json as { status?: unknown }).status === "UP";
}

/** A record view of a parsed message (tests only look at objects). */
export function obj(m: ReceivedMessage): Record<string, unknown> {
  if (typeof m.json !== "object" || m.json === null || Array.isArray(m.json)) {
    throw new Error(`not an object: ${m.text}`);
  }
  return m.json as Record<string, unknown>;
}

export interface WsHarness {
  api: WebSocketApi;
  url: string;
  server: Server;
  connect(): Promise<WsTestClient>;
  /** Terminates the clients, then closes the API and the server. */
  close(): Promise<void>;
}

/** The API behind a plain `node:http` server on 127.0.0.1, port 0. */
export async function startHarness(
  options: Partial<WebSocketApiOptions> & Pick<WebSocketApiOptions, "exchange" | "now">,
): Promise<WsHarness> {
  const api = createWebSocketApi({
    idleTimeoutMs: 120_000,
    connectLimitPerSecond: 1_000,
    messageLimitPerSecond: 1_000,
    tickMs: 5,
    ...options,
  });
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (req.url === "/websocket/v1") api.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/websocket/v1`;
  const clients: WsTestClient[] = [];
  return {
    api,
    url,
    server,
    async connect() {
      const c = await WsTestClient.connect(url);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = T0): { now: () => number; advance: (ms: number) => number; set: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => (t += ms),
    set: (ms) => {
      t = ms;
    },
  };
}

/** `sequential_id` / `sid` digits as written in the frame (JSON.parse would round them). */
export function rawSequentialId(text: string): bigint {
  const m = /"(?:sequential_id|sid)":(\d+)/.exec(text);
  if (!m?.[1]) throw new Error(`no sequential id in ${text}`);
  return BigInt(m[1]);
}
