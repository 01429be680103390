import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Priority } from "../../src/gateway/upstream/rate-limiter.js";
import { UpbitRestClient, type UpbitRestClientOptions } from "../../src/gateway/upstream/upbit-rest-client.js";
import {
  isUpstreamBadRequestError,
  isUpstreamNotFoundError,
  type UpstreamBlockedError,
  type UpstreamProtocolError,
  type UpstreamUnavailableError,
} from "../../src/gateway/upstream/upstream-errors.js";
import { FIXTURES_DIR } from "../support/fixtures.js";

const FIXTURES = FIXTURES_DIR;
const fixture = (name: string): string => readFileSync(`${FIXTURES}/${name}`, "utf8");

/** One request as the fake server saw it. */
interface Hit {
  path: string;
  group: string;
  market: string;
  atMs: number;
  status: number;
  headers: IncomingMessage["headers"];
}

/** What the server does with one request; undefined = a normal answer. */
type Action =
  | { kind: "reply"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "truncate" } // promises 1,000 bytes, sends a few, closes the socket
  | { kind: "reset" } // closes the socket without answering
  | { kind: "hang"; onClose: () => void }; // never answers; reports when the client goes away

function groupOf(path: string): string {
  if (path.startsWith("/v1/candles/")) return "candles";
  if (path.startsWith("/v1/ticker")) return "ticker";
  if (path.startsWith("/v1/orderbook")) return "orderbook";
  if (path.startsWith("/v1/trades/")) return "crix-trades";
  if (path.startsWith("/v1/market/")) return "market";
  return "none";
}

function candleBody(market: string): string {
  return `[{"market":"${market}","candle_date_time_utc":"2026-03-11T14:40:00","candle_date_time_kst":"2026-03-11T23:40:00","opening_price":103600000.00000000,"high_price":103600000.00000000,"low_price":103425000.00000000,"trade_price":103460000.00000000,"timestamp":1773240059132,"candle_acc_trade_price":164899503.14206000,"candle_acc_trade_volume":1.59335120,"unit":1}]`;
}

/**
 * A small Upbit look-alike: fixture bodies, per-group limits counted in aligned 1-s windows (429
 * beyond), `Remaining-Req` on every reply, gzip when asked, and faults on demand via `act`.
 */
class FakeUpbit {
  readonly hits: Hit[] = [];
  /** Requests per group per aligned second before 429. */
  limit = 1_000;
  gzip = false;
  act: (hit: Hit, attempt: number) => Action | undefined = () => undefined;
  private readonly windows = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private readonly server: Server = createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  count(status: number): number {
    return this.hits.filter((h) => h.status === status).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const group = groupOf(url.pathname);
    const market = url.searchParams.get("market") ?? url.searchParams.get("markets") ?? "";
    const atMs = Date.now();
    const windowKey = `${group}@${Math.floor(atMs / 1_000)}`;
    const used = (this.windows.get(windowKey) ?? 0) + 1;
    this.windows.set(windowKey, used);
    const hit: Hit = { path: `${url.pathname}${url.search}`, group, market, atMs, status: 0, headers: req.headers };
    this.hits.push(hit);
    const key = `${url.pathname}?${market}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);

    const remaining = { "remaining-req": `group=${group}; min=600; sec=${Math.max(0, this.limit - used)}` };
    if (used > this.limit) return this.send(res, hit, 429, '{"error":{"name":429,"message":"Too many requests"}}', remaining);
    const action = this.act(hit, attempt);
    if (action?.kind === "reply") return this.send(res, hit, action.status, action.body, { ...remaining, ...action.headers });
    if (action?.kind === "reset") {
      hit.status = -1;
      req.socket.destroy();
      return;
    }
    if (action?.kind === "truncate") {
      hit.status = 200;
      res.writeHead(200, { "content-type": "application/json;charset=UTF-8", "content-length": "1000" });
      res.write('[{"market":');
      setImmediate(() => req.socket.destroy());
      return;
    }
    if (action?.kind === "hang") {
      hit.status = -2;
      res.on("close", action.onClose);
      return;
    }
    const body = group === "candles" ? candleBody(market) : group === "ticker" ? fixture("ticker.json") : group === "orderbook" ? fixture("orderbook.json") : group === "crix-trades" ? fixture("trades-ticks.json") : "[]";
    this.send(res, hit, 200, body, remaining);
  }

  private send(res: ServerResponse, hit: Hit, status: number, body: string, headers: Record<string, string>): void {
    hit.status = status;
    const zip = this.gzip && /\bgzip\b/.test(String(hit.headers["accept-encoding"]));
    const payload = zip ? gzipSync(body) : Buffer.from(body);
    res.writeHead(status, {
      "content-type": "application/json;charset=UTF-8",
      "content-length": String(payload.length),
      "limit-by-ip": "Yes",
      ...(zip ? { "content-encoding": "gzip" } : {}),
      ...headers,
    });
    res.end(payload);
  }
}

let server: FakeUpbit;
let client: UpbitRestClient | undefined;

async function start(options: UpbitRestClientOptions = {}): Promise<UpbitRestClient> {
  server = new FakeUpbit();
  const baseUrl = await server.start();
  client = new UpbitRestClient({ baseUrl, retryBaseDelayMs: 10, retryMaxDelayMs: 40, ...options });
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await server.stop();
});

const NORMAL = { priority: "NORMAL" } as const;

/** The most hits of `group` inside any 1-s window starting at `phaseMs` past a second. */
function maxPerWindow(hits: Hit[], group: string, phaseMs: number): number {
  const counts = new Map<number, number>();
  for (const h of hits) {
    if (h.group !== group) continue;
    const w = Math.floor((h.atMs - phaseMs) / 1_000);
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

describe("UpbitRestClient against a local Upbit look-alike", () => {
  it("sends Upbit's paths and query spelling, asks for gzip, sends no Origin, and parses every endpoint", async () => {
    const c = await start();
    server.gzip = true;
    const to = Date.UTC(2026, 2, 11, 14, 40, 0);
    const candles = await c.candles("KRW-BTC", "1m", { to, count: 200 }, NORMAL);
    await c.candles("KRW-BTC", "1s", { to: to + 1, count: 1 }, NORMAL);
    await c.candles("KRW-BTC", "1mo", { count: 5 }, NORMAL);
    const tickers = await c.tickers(["KRW-BTC", "KRW-ETH"], { priority: "HIGH" });
    await c.tickersByQuote(["KRW", "BTC"], NORMAL);
    const books = await c.orderbooks(["KRW-BTC"], { count: 15, level: 100000 }, { priority: "CRITICAL" });
    const trades = await c.trades("KRW-BTC", { count: 500, cursor: 17732400590950000n, daysAgo: 2, to: "14:40:59" }, { priority: "LOW" });
    await c.listMarkets(true, NORMAL);

    expect(server.hits.map((h) => h.path)).toEqual([
      "/v1/candles/minutes/1?market=KRW-BTC&count=200&to=2026-03-11T14%3A40%3A00Z",
      // A fractional `to` is rounded up to the whole second: the same buckets start before it.
      "/v1/candles/seconds?market=KRW-BTC&count=1&to=2026-03-11T14%3A40%3A01Z",
      "/v1/candles/months?market=KRW-BTC&count=5",
      "/v1/ticker?markets=KRW-BTC%2CKRW-ETH",
      "/v1/ticker/all?quote_currencies=KRW%2CBTC",
      "/v1/orderbook?markets=KRW-BTC&count=15&level=100000",
      "/v1/trades/ticks?market=KRW-BTC&count=500&to=14%3A40%3A59&cursor=17732400590950000&days_ago=2",
      "/v1/market/all?is_details=true",
    ]);
    for (const h of server.hits) {
      expect(h.headers["accept-encoding"]).toMatch(/gzip/);
      expect(h.headers.origin).toBeUndefined();
    }
    expect(candles).toEqual([
      {
        market: "KRW-BTC",
        timeMs: to,
        open: 103_600_000,
        high: 103_600_000,
        low: 103_425_000,
        close: 103_460_000,
        volume: 1.5933512,
        quoteVolume: 164_899_503.14206,
        timestampMs: 1_773_240_059_132,
      },
    ]);
    expect(tickers[0]?.tradePrice).toBe(103_493_000);
    expect(books[0]?.units).toHaveLength(30);
    expect(trades[0]?.sequentialId).toBe(17732400590950000n);
  });

  it("refuses bad arguments before sending anything", async () => {
    const c = await start();
    await expect(c.candles("krw-btc", "1m", { count: 1 }, NORMAL)).rejects.toMatchObject({ name: "InvalidArgumentError", field: "market" });
    await expect(c.candles("KRW-BTC", "1m", { count: 201 }, NORMAL)).rejects.toMatchObject({ name: "InvalidArgumentError", field: "count" });
    await expect(c.candles("KRW-BTC", "1m", { count: 1, to: Number.NaN }, NORMAL)).rejects.toMatchObject({ field: "to" });
    await expect(c.tickers([], NORMAL)).rejects.toMatchObject({ field: "markets" });
    await expect(c.orderbooks(["KRW-BTC"], { level: 1e-7 }, NORMAL)).rejects.toMatchObject({ field: "level" });
    await expect(c.trades("KRW-BTC", { count: 1, daysAgo: 8 }, NORMAL)).rejects.toMatchObject({ field: "daysAgo" });
    await expect(c.trades("KRW-BTC", { count: 1, to: "25:00:00" }, NORMAL)).rejects.toMatchObject({ field: "to" });
    expect(server.hits).toHaveLength(0);
  });

  it("1,000 concurrent candle calls: every one answered, zero 429s, never more than the limit in any 1-s window", async () => {
    const LIMIT = 400;
    const c = await start({ rateLimit: { limitPerSecond: LIMIT, criticalReserve: 0 }, connections: 32 });
    server.limit = LIMIT;
    const priorities: Priority[] = ["CRITICAL", "HIGH", "NORMAL", "LOW"];
    const markets = Array.from({ length: 1_000 }, (_, i) => `KRW-T${i}`);
    const started = Date.now();
    const results = await Promise.all(markets.map((m, i) => c.candles(m, "1m", { count: 200 }, { priority: priorities[i % 4] ?? "NORMAL" })));
    const elapsed = Date.now() - started;

    expect(results.map((r) => r[0]?.market)).toEqual(markets);
    expect(server.count(429)).toBe(0);
    expect(server.hits).toHaveLength(1_000);
    // The server's windows are aligned to its second; ours must hold for any phase.
    for (let phase = 0; phase < 1_000; phase += 100) expect(maxPerWindow(server.hits, "candles", phase)).toBeLessThanOrEqual(LIMIT);
    // 1,000 calls at 400 per window need two more windows after the first.
    expect(elapsed).toBeGreaterThanOrEqual(2 * 1_000);
  });

  it("with 429 bursts and 20% 5xx every call still succeeds within its retry budget", async () => {
    const c = await start({ rateLimit: { limitPerSecond: 200, rateLimitBackoffBaseMs: 100 } });
    const CALLS = 100;
    const failedOnce = new Set<string>();
    server.act = (hit) => {
      const n = server.hits.length;
      // A burst: the 21st..30th requests to arrive are refused as if over the limit.
      if (n > 20 && n <= 30) return { kind: "reply", status: 429, body: '{"error":{"name":429,"message":"Too many requests"}}' };
      // Every fifth market fails once with a 5xx, alternately Upbit's shape and a proxy page.
      const i = Number(hit.market.slice(5));
      if (i % 5 === 0 && !failedOnce.has(hit.market)) {
        failedOnce.add(hit.market);
        return i % 10 === 0
          ? { kind: "reply", status: 500, body: '{"error":{"name":500,"message":"Internal Server Error"}}' }
          : { kind: "reply", status: 503, body: "<html><body>점검 중 (maintenance)</body></html>", headers: { "content-type": "text/html" } };
      }
      return undefined;
    };
    const markets = Array.from({ length: CALLS }, (_, i) => `KRW-T${i}`);
    const results = await Promise.all(markets.map((m) => c.candles(m, "1m", { count: 1 }, NORMAL)));
    expect(results.map((r) => r[0]?.market)).toEqual(markets);
    expect(server.count(429)).toBe(10);
    expect(server.count(500) + server.count(503)).toBe(20);
    const perMarket = new Map<string, number>();
    for (const h of server.hits) perMarket.set(h.market, (perMarket.get(h.market) ?? 0) + 1);
    expect(Math.max(...perMarket.values())).toBeLessThanOrEqual(4);
    expect(server.hits).toHaveLength(CALLS + 30);
  });

  it("rides out a storm longer than any fixed number of attempts: retries run on while the window lasts", async () => {
    const c = await start({ rateLimit: { limitPerSecond: 1_000 } });
    // 15 failures in a row: a client giving up after 3 retries would have failed 3 times over.
    server.act = (hit, attempt) =>
      attempt <= 15 ? { kind: "reply", status: attempt % 2 === 0 ? 503 : 500, body: "<html>Service Unavailable</html>" } : undefined;
    const [first, second] = await Promise.all([c.candles("KRW-STORM", "1m", { count: 1 }, NORMAL), c.candles("KRW-GALE", "1m", { count: 1 }, NORMAL)]);
    expect(first?.[0]?.market).toBe("KRW-STORM");
    expect(second?.[0]?.market).toBe("KRW-GALE");
    expect(server.hits).toHaveLength(2 * 16);
  });

  it("gives up when the retry window is over: 5xx and 429 forever become Unavailable / RateLimited", async () => {
    const WINDOW_MS = 400;
    // A budget that never holds a retry back: the window alone decides.
    const c = await start({ retryWindowMs: WINDOW_MS, rateLimit: { limitPerSecond: 1_000, rateLimitBackoffBaseMs: 20, rateLimitBackoffMaxMs: 40 } });
    server.act = (hit) =>
      hit.market === "KRW-DOWN"
        ? { kind: "reply", status: 502, body: "<html>Bad Gateway</html>" }
        : { kind: "reply", status: 429, body: '{"error":{"name":429,"message":"Too many requests"}}' };
    // The longest wait before a retry: a 5xx backoff is at most retryMaxDelayMs (40); a 429 pause is
    // rateLimitBackoffMaxMs plus up to half of it again as jitter.
    for (const [call, expected, longestWaitMs] of [
      [() => c.candles("KRW-DOWN", "1m", { count: 1 }, NORMAL), { name: "UpstreamUnavailableError", status: 502 }, 40],
      [() => c.tickers(["KRW-BTC"], NORMAL), { name: "UpstreamRateLimitedError", status: 429 }, 60],
    ] as const) {
      const before = server.hits.length;
      const t0 = performance.now();
      const e = (await call().catch((err: unknown) => err)) as UpstreamUnavailableError;
      const elapsed = performance.now() - t0;
      expect(e).toMatchObject(expected);
      // No retry that could not start inside the window: it gives up at most a longest wait before its end.
      expect(elapsed).toBeGreaterThanOrEqual(WINDOW_MS - longestWaitMs);
      expect(elapsed).toBeLessThan(WINDOW_MS + 500);
      expect(e.attempts).toBe(server.hits.length - before);
      expect(e.attempts).toBeGreaterThan(4);
    }
  });

  it("maxRetries caps the attempts inside the window", async () => {
    const c = await start({ maxRetries: 3 });
    server.act = () => ({ kind: "reply", status: 502, body: "<html>Bad Gateway</html>" });
    await expect(c.candles("KRW-DOWN", "1m", { count: 1 }, NORMAL)).rejects.toMatchObject({ name: "UpstreamUnavailableError", attempts: 4, status: 502 });
    expect(server.hits).toHaveLength(4);
  });

  it("an abort during the retries ends the call at once with AbortError", async () => {
    const c = await start({ retryBaseDelayMs: 200, retryMaxDelayMs: 200 });
    server.act = (hit) => (hit.market === "KRW-DOWN" ? { kind: "reply", status: 503, body: "<html>Service Unavailable</html>" } : undefined);
    const ac = new AbortController();
    const call = c.candles("KRW-DOWN", "1m", { count: 1 }, { priority: "NORMAL", signal: ac.signal }).catch((err: unknown) => err);
    await vi.waitFor(() => expect(server.hits.length).toBeGreaterThanOrEqual(2));
    ac.abort();
    expect(await call).toMatchObject({ name: "AbortError" });
    const sent = server.hits.length;
    await c.tickers(["KRW-BTC"], NORMAL);
    expect(server.hits.filter((h) => h.market === "KRW-DOWN")).toHaveLength(sent);
  });

  it("on 418 stops the group, fails the waiting calls with the retry time and keeps other groups working", async () => {
    const c = await start({ rateLimit: { limitPerSecond: 3, criticalReserve: 0 } });
    server.act = (hit) =>
      hit.group === "candles" ? { kind: "reply", status: 418, body: '{"error":{"name":418,"message":"Too many requests. Blocked for 120 seconds"}}' } : undefined;
    const before = Date.now();
    // Three go at once, the other three wait in the limiter's queue (3 per window).
    const calls = Array.from({ length: 6 }, (_, i) => c.candles(`KRW-T${i}`, "1m", { count: 1 }, NORMAL).catch((e: unknown) => e));
    const errors = (await Promise.all(calls)) as UpstreamBlockedError[];
    for (const e of errors) {
      expect(e.name).toBe("UpstreamBlockedError");
      expect(e.group).toBe("candles");
      expect(e.endpoint).toBe("/v1/candles/minutes/1");
      expect(e.retryAtMs).toBeGreaterThanOrEqual(before + 120_000);
      expect(e.retryAtMs).toBeLessThan(Date.now() + 120_000 + 1);
    }
    expect(errors[0]?.upbitError?.message).toMatch(/Blocked for 120 seconds/);
    expect(server.hits).toHaveLength(3);
    // Later calls fail without reaching Upbit; another group is unaffected.
    await expect(c.candles("KRW-BTC", "1d", { count: 1 }, { priority: "CRITICAL" })).rejects.toMatchObject({ name: "UpstreamBlockedError" });
    expect(server.hits).toHaveLength(3);
    // The 418s of the requests already in flight may extend the block by the ms between them.
    expect(c.limiter.blockedUntil("candles")).toBe(Math.max(...errors.map((e) => e.retryAtMs)));
    await expect(c.tickers(["KRW-BTC"], NORMAL)).resolves.toHaveLength(1);
  });

  it("reports Upbit's errors as typed errors without retrying them", async () => {
    const c = await start();
    server.act = (hit) => {
      if (hit.market.includes("KRW-NOPE")) return { kind: "reply", status: 404, body: '{"error":{"name":404,"message":"Code not found"}}' };
      if (hit.market === "KRW-BAD") return { kind: "reply", status: 400, body: '{"error":{"name":400,"message":"Invalid parameter. Check the given value!"}}' };
      if (hit.market === "KRW-ROUTE") return { kind: "reply", status: 404, body: '{"error":{"name":"not_found","message":"no Route matched with those values"}}' };
      return undefined;
    };
    const notFound = await c.orderbooks(["KRW-BTC", "KRW-NOPE"], {}, NORMAL).catch((e: unknown) => e);
    expect(notFound).toMatchObject({ name: "UpstreamNotFoundError", status: 404, upbitError: { name: 404, message: "Code not found" } });
    expect(isUpstreamNotFoundError(notFound)).toBe(true);
    const bad = await c.candles("KRW-BAD", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: "UpstreamBadRequestError", status: 400 });
    const route = await c.candles("KRW-ROUTE", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e);
    expect(isUpstreamBadRequestError(route) && !isUpstreamNotFoundError(route)).toBe(true);
    expect(server.hits).toHaveLength(3);
  });

  it("turns malformed and truncated bodies into protocol errors, and a body cut by the connection into a retry", async () => {
    const c = await start({ rateLimit: { limitPerSecond: 50 }, maxRetries: 3 });
    server.act = (hit, attempt) => {
      if (hit.market === "KRW-HTML") return { kind: "reply", status: 200, body: "<html>hello</html>" };
      if (hit.market === "KRW-HALF") return { kind: "reply", status: 200, body: candleBody("KRW-HALF").slice(0, 120) };
      if (hit.market === "KRW-STR") return { kind: "reply", status: 200, body: candleBody("KRW-STR").replace("103460000.00000000", '"103460000.00000000"') };
      if (hit.market === "KRW-CUT" && attempt === 1) return { kind: "truncate" };
      if (hit.market === "KRW-CUTS") return { kind: "truncate" };
      if (hit.market === "KRW-RST" && attempt === 1) return { kind: "reset" };
      return undefined;
    };
    const html = (await c.candles("KRW-HTML", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e)) as UpstreamProtocolError;
    expect(html).toMatchObject({ name: "UpstreamProtocolError", endpoint: "/v1/candles/minutes/1", field: "body" });
    const half = (await c.candles("KRW-HALF", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e)) as UpstreamProtocolError;
    expect(half).toMatchObject({ name: "UpstreamProtocolError", field: "body" });
    const str = (await c.candles("KRW-STR", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e)) as UpstreamProtocolError;
    expect(str).toMatchObject({ name: "UpstreamProtocolError", field: "[0].trade_price" });
    expect(server.hits).toHaveLength(3);

    await expect(c.candles("KRW-CUT", "1m", { count: 1 }, NORMAL)).resolves.toHaveLength(1);
    await expect(c.candles("KRW-RST", "1m", { count: 1 }, NORMAL)).resolves.toHaveLength(1);
    const cuts = (await c.candles("KRW-CUTS", "1m", { count: 1 }, NORMAL).catch((e: unknown) => e)) as UpstreamUnavailableError;
    expect(cuts).toMatchObject({ name: "UpstreamUnavailableError", attempts: 4 });
    expect(server.hits.filter((h) => h.market === "KRW-CUTS")).toHaveLength(4);
  });

  it("retries refused connections, then reports Unavailable", async () => {
    const c = await start();
    // A port that was just free: nothing listens there any more.
    const probe = new FakeUpbit();
    const deadUrl = await probe.start();
    await probe.stop();
    await c.close();
    client = new UpbitRestClient({ baseUrl: deadUrl, retryBaseDelayMs: 5, retryMaxDelayMs: 10, maxRetries: 3 });
    const e = (await client.candles("KRW-BTC", "1m", { count: 1 }, NORMAL).catch((err: unknown) => err)) as UpstreamUnavailableError;
    expect(e).toMatchObject({ name: "UpstreamUnavailableError", attempts: 4 });
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it("retries a reply that does not come in time", async () => {
    const c = await start({ requestTimeoutMs: 150 });
    server.act = (_hit, attempt) => (attempt === 1 ? { kind: "hang", onClose: () => undefined } : undefined);
    await expect(c.candles("KRW-SLOW", "1m", { count: 1 }, NORMAL)).resolves.toHaveLength(1);
    expect(server.hits.map((h) => h.status)).toEqual([-2, 200]);
  });

  it("abort while queued: the call rejects with AbortError, leaves the queue and is never sent", async () => {
    const c = await start({ rateLimit: { limitPerSecond: 1, criticalReserve: 0 } });
    await c.candles("KRW-FIRST", "1m", { count: 1 }, NORMAL);
    const ac = new AbortController();
    const queued = c.candles("KRW-QUEUED", "1m", { count: 1 }, { priority: "NORMAL", signal: ac.signal });
    const behind = c.candles("KRW-BEHIND", "1m", { count: 1 }, { priority: "LOW" });
    await Promise.resolve();
    expect(c.limiter.stats("candles").queued).toMatchObject({ NORMAL: 1, LOW: 1 });
    ac.abort();
    await expect(queued).rejects.toMatchObject({ name: "AbortError" });
    expect(c.limiter.stats("candles")).toMatchObject({ inWindow: 1, queued: { NORMAL: 0, LOW: 1 } });
    // The caller behind it gets the next slot.
    await expect(behind).resolves.toHaveLength(1);
    expect(server.hits.map((h) => h.market)).toEqual(["KRW-FIRST", "KRW-BEHIND"]);
  });

  it("abort mid-request: the request is torn down and the call rejects with AbortError", async () => {
    const c = await start();
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    server.act = () => {
      arrived();
      return { kind: "hang", onClose: closed };
    };
    const ac = new AbortController();
    const call = c.candles("KRW-HANG", "1m", { count: 1 }, { priority: "HIGH", signal: ac.signal });
    await requestArrived;
    ac.abort(new Error("deadline"));
    const e = (await call.catch((err: unknown) => err)) as Error;
    expect(e.name).toBe("AbortError");
    expect(e.cause).toEqual(new Error("deadline"));
    await connectionClosed;
    expect(server.hits).toHaveLength(1);
  });
});
