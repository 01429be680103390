import { EventEmitter, once } from "node:events";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { UpbitTicker } from "../../src/gateway/upstream/upbit-types.js";
import {
  createUpbitWebSocketClient,
  UpbitWebSocketSilenceError,
  type UpbitWebSocketClient,
  type UpbitWebSocketClientOptions,
  type UpbitWebSocketDisconnect,
  type UpbitWebSocketError,
  type UpbitWebSocketEvents,
  type UpbitWebSocketReconnect,
  type UpbitWebSocketTimers,
} from "../../src/gateway/upstream/upbit-websocket-client.js";
import { UpbitWebSocketFrameError, UpbitWebSocketServerError } from "../../src/gateway/upstream/upbit-websocket-parsers.js";
import { FIXTURES_DIR } from "../support/fixtures.js";
import { TICKER_KEYS } from "../support/upbit-simple-keys.js";

/** Longest any single wait may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 5_000;

const TICKER_TEMPLATE = (
  JSON.parse(readFileSync(`${FIXTURES_DIR}/ws-ticker.json`, "utf8")) as { docs_example_default_2023: Record<string, unknown> }
).docs_example_default_2023;


/** Price the fake exchange quotes for a code, so a test can tell tickers apart. */
const priceOf = (code: string): number => 1_000 + [...code].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);

function tickerFrame(code: string, format: string): string {
  const full: Record<string, unknown> = { ...TICKER_TEMPLATE, code, trade_price: priceOf(code), stream_type: "SNAPSHOT" };
  const simple = format.startsWith("SIMPLE");
  const obj = simple ? Object.fromEntries(Object.entries(full).map(([k, v]) => [TICKER_KEYS[k] ?? k, v])) : full;
  return JSON.stringify(format.endsWith("_LIST") ? [obj] : obj);
}

interface Request {
  connection: number;
  atMs: number;
  frame: Record<string, unknown>[];
}

interface FakeUpbitOptions {
  /** Answer protocol pings (a live server) or not (a hung one). */
  autoPong?: boolean;
  /** Replaces the default answer to a subscription (one ticker snapshot per ticker code). */
  onRequest?: (ws: WebSocket, request: Request) => void;
}

/**
 * Just enough of Upbit's public WebSocket: a request frame is a JSON array with a ticket; each ticker
 * code gets a SNAPSHOT in the asked format, as a binary frame (every other one as text, which the
 * client must take too); text PING gets {"status":"UP"}; malformed requests get Upbit's error frames.
 */
class FakeUpbit extends EventEmitter {
  readonly requests: Request[] = [];
  readonly sockets: WebSocket[] = [];
  readonly pings: number[] = [];
  readonly textPings: number[] = [];
  private constructor(
    readonly server: WebSocketServer,
    private readonly options: FakeUpbitOptions,
  ) {
    super();
    server.on("connection", (ws) => this.accept(ws));
  }

  static async start(options: FakeUpbitOptions = {}): Promise<FakeUpbit> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, autoPong: options.autoPong ?? true });
    await once(server, "listening");
    const fake = new FakeUpbit(server, options);
    servers.push(fake);
    return fake;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/websocket/v1`;
  }

  private accept(ws: WebSocket): void {
    const connection = this.sockets.push(ws) - 1;
    let sent = 0;
    ws.on("ping", () => {
      this.pings.push(connection);
      this.emit("ping", connection);
    });
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      if (text === "PING") {
        this.textPings.push(connection);
        ws.send(JSON.stringify({ status: "UP" }), { binary: true });
        this.emit("textPing", connection);
        return;
      }
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = undefined;
      }
      if (!Array.isArray(frame)) return this.fail(ws, "WRONG_FORMAT", "Format 이 맞지 않습니다.");
      const items = frame as Record<string, unknown>[];
      if (typeof items[0]?.["ticket"] !== "string") return this.fail(ws, "NO_TICKET", "티켓이 존재하지 않거나, 유효하지 않습니다.");
      const request: Request = { connection, atMs: performance.now(), frame: items };
      this.requests.push(request);
      this.emit("request", request);
      if (this.options.onRequest !== undefined) return this.options.onRequest(ws, request);
      const format = (items.find((o) => "format" in o)?.["format"] as string | undefined) ?? "DEFAULT";
      for (const item of items.slice(1)) {
        if (item["type"] !== "ticker") continue;
        for (const code of item["codes"] as string[]) {
          ws.send(tickerFrame(code, format), { binary: sent++ % 2 === 0 });
        }
      }
    });
  }

  private fail(ws: WebSocket, name: string, message: string): void {
    ws.send(JSON.stringify({ error: { name, message } }), { binary: true });
    ws.close(1000);
  }

  /** The next event of `name` whose payload passes `test` (default: any). */
  next<T>(name: string, test: (value: T) => boolean = () => true): Promise<T> {
    return waitFor<T>(this, name, test);
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function waitFor<T>(emitter: EventEmitter, name: string, test: (value: T) => boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no "${name}" event within ${WAIT_LIMIT_MS} ms`));
    }, WAIT_LIMIT_MS);
    const listener = (value: T) => {
      if (!test(value)) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(value);
    };
    emitter.on(name, listener);
  });
}

/** The client's events re-emitted on an EventEmitter, plus everything recorded per event. */
function watch(client: UpbitWebSocketClient) {
  const events = new EventEmitter();
  const seen = {
    ticker: [] as UpbitTicker[],
    error: [] as UpbitWebSocketError[],
    disconnect: [] as UpbitWebSocketDisconnect[],
    reconnect: [] as UpbitWebSocketReconnect[],
  };
  client.on("ticker", (t) => {
    seen.ticker.push(t);
    events.emit("ticker", t);
  });
  for (const name of ["error", "disconnect", "reconnect"] as const) {
    client.on(name, ((value: never) => {
      (seen[name] as unknown[]).push(value);
      events.emit(name, value);
    }) as UpbitWebSocketEvents[typeof name]);
  }
  const next = <T>(name: string, test: (value: T) => boolean = () => true): Promise<T> => waitFor(events, name, test);
  return { seen, next };
}

const servers: FakeUpbit[] = [];
const clients: UpbitWebSocketClient[] = [];

function client(options: UpbitWebSocketClientOptions): UpbitWebSocketClient {
  const c = createUpbitWebSocketClient({ reconnectBaseMs: 10, reconnectMaxMs: 50, ...options });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const FIVE = ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH", "USDT-BTC"];
const codesOf = (request: Request, type = "ticker"): string[] | undefined =>
  request.frame.find((o) => o["type"] === type)?.["codes"] as string[] | undefined;

describe("UpbitWebSocketClient against a local Upbit look-alike", () => {
  it.each(["SIMPLE", "DEFAULT"] as const)("subscribes to 5 tickers and receives them typed in %s", async (format) => {
    const upbit = await FakeUpbit.start();
    const c = client({ url: upbit.url, ...(format === "SIMPLE" ? {} : { format }) });
    const { seen, next } = watch(c);
    const fifth = next("ticker", () => seen.ticker.length === 5);
    c.setSubscriptions([{ type: "ticker", codes: ["krw-btc", ...FIVE.slice(1)] }]);
    await fifth;

    const [request] = upbit.requests;
    expect(request?.frame).toEqual([
      { ticket: expect.any(String) },
      { type: "ticker", codes: [...FIVE].sort() },
      { format },
    ]);
    expect(seen.ticker.map((t) => t.market).sort()).toEqual([...FIVE].sort());
    for (const t of seen.ticker) {
      expect(t.tradePrice).toBe(priceOf(t.market));
      expect(t).toMatchObject({ tradeTimestampMs: 1676965262139, change: "RISE", streamType: "SNAPSHOT" });
    }
    expect(seen.error).toEqual([]);
  });

  it("coalesces a synchronous burst of 1,000 subscription changes into one frame, the last", async () => {
    const upbit = await FakeUpbit.start();
    const c = client({ url: upbit.url });
    const { next } = watch(c);
    const last = next<UpbitTicker>("ticker", (t) => t.market === "KRW-C999");
    for (let i = 0; i < 1_000; i++) c.setSubscriptions([{ type: "ticker", codes: [`KRW-C${i}`] }]);
    await last;
    expect(upbit.requests.map((r) => codesOf(r))).toEqual([["KRW-C999"]]);
  });

  it("keeps a 0.7 s storm of 1,000 changes within 5 frames per second and ends on the last one asked", async () => {
    const upbit = await FakeUpbit.start();
    const c = client({ url: upbit.url });
    const final = upbit.next<Request>("request", (r) => codesOf(r)?.[0] === "KRW-C999");
    for (let i = 0; i < 1_000; i++) {
      c.setSubscriptions([{ type: "ticker", codes: [`KRW-C${i}`] }]);
      // Spread the calls over ~0.7 s so the per-second budget, not just coalescing, is exercised.
      if (i % 10 === 9) await delay(6);
    }
    const finishedAt = performance.now();
    const lastRequest = await final;
    expect(lastRequest).toBe(upbit.requests.at(-1));
    expect(lastRequest.atMs - finishedAt).toBeLessThan(1_200);
    const times = upbit.requests.map((r) => r.atMs);
    expect(times.length).toBeGreaterThan(5);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(5);
  });

  it("reconnects after the server drops the connection, resubscribes and reports the gap", async () => {
    let clock = 1_000;
    const upbit = await FakeUpbit.start({
      onRequest: (ws, request) => {
        // The first frame after resubscribing is stamped 5 000 by the client's clock.
        if (request.connection === 1) clock = 5_000;
        ws.send(tickerFrame("KRW-BTC", "SIMPLE"), { binary: true });
      },
    });
    const c = client({ url: upbit.url, now: () => clock, random: () => 0 });
    const { seen, next } = watch(c);
    const first = next("ticker");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"] }]);
    await first;

    clock = 2_000;
    const disconnected = next<UpbitWebSocketDisconnect>("disconnect");
    const reconnected = next<UpbitWebSocketReconnect>("reconnect");
    upbit.sockets[0]!.terminate();
    expect(await disconnected).toEqual({ atMs: 2_000, lastFrameAtMs: 1_000, code: 1006, reason: "" });
    expect(await reconnected).toEqual({ fromMs: 1_000, toMs: 5_000, attempts: 1 });

    expect(upbit.requests.map((r) => r.connection)).toEqual([0, 1]);
    expect(upbit.requests[1]?.frame).toEqual(upbit.requests[0]?.frame);
    expect(seen.ticker).toHaveLength(2);
    expect(seen.disconnect).toHaveLength(1);
    expect(c.state()).toBe("open");
  });

  it("replaces a connection whose server stopped answering pings, and reports it", async () => {
    const upbit = await FakeUpbit.start({
      autoPong: false,
      onRequest: (ws) => ws.send(tickerFrame("KRW-BTC", "SIMPLE"), { binary: true }),
    });
    const c = client({ url: upbit.url, pingIntervalMs: 40, deadAfterMs: 200 });
    const { next } = watch(c);
    const disconnected = next<UpbitWebSocketDisconnect>("disconnect");
    const reconnected = next<UpbitWebSocketReconnect>("reconnect");
    c.setSubscriptions([{ type: "orderbook", codes: ["KRW-BTC"], depth: 5 }, { type: "ticker", codes: ["KRW-BTC"] }]);

    const drop = await disconnected;
    expect(drop.cause).toBeInstanceOf(UpbitWebSocketSilenceError);
    expect((drop.cause as UpbitWebSocketSilenceError).silentMs).toBeGreaterThanOrEqual(200);
    expect(upbit.pings.filter((conn) => conn === 0).length).toBeGreaterThanOrEqual(2);
    const gap = await reconnected;
    expect(gap.fromMs).toBeLessThanOrEqual(drop.atMs);
    expect(gap.toMs).toBeGreaterThanOrEqual(drop.atMs);
    expect(upbit.requests.map((r) => r.connection)).toEqual([0, 1]);
    expect(codesOf(upbit.requests[1]!, "orderbook")).toEqual(["KRW-BTC.5"]);
  });

  it("keeps a quiet connection that answers pings", async () => {
    const upbit = await FakeUpbit.start({ onRequest: () => {} });
    const c = client({ url: upbit.url, pingIntervalMs: 40, deadAfterMs: 200 });
    const { seen } = watch(c);
    const tenthPing = upbit.next("ping", () => upbit.pings.length >= 10);
    c.setSubscriptions([{ type: "trade", codes: ["KRW-BTC"] }]);
    await tenthPing;
    expect(seen.disconnect).toEqual([]);
    expect(upbit.sockets).toHaveLength(1);
  });

  it("keeps a quiet connection alive with text PING and Upbit's status replies", async () => {
    const upbit = await FakeUpbit.start({ autoPong: false, onRequest: () => {} });
    const c = client({ url: upbit.url, keepAlive: "text-ping", pingIntervalMs: 250, deadAfterMs: 700 });
    const { seen } = watch(c);
    const third = upbit.next("textPing", () => upbit.textPings.length >= 3);
    c.setSubscriptions([{ type: "trade", codes: ["KRW-BTC"] }]);
    await third;
    expect(upbit.pings).toEqual([]);
    expect(seen.disconnect).toEqual([]);
    expect(seen.error).toEqual([]);
  });

  it("reports Upbit's error frame as a typed error, then the close that follows it", async () => {
    const upbit = await FakeUpbit.start({
      onRequest: (ws) => {
        ws.send(JSON.stringify({ error: { name: "INVALID_PARAM", message: "nope 은 지원하지 않는 타입입니다." } }), { binary: true });
        ws.close(1000);
      },
    });
    const c = client({ url: upbit.url, reconnectBaseMs: 1_000, reconnectMaxMs: 1_000 });
    const { next } = watch(c);
    const error = next<UpbitWebSocketError>("error");
    const disconnected = next<UpbitWebSocketDisconnect>("disconnect");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"] }]);
    const e = await error;
    expect(e).toBeInstanceOf(UpbitWebSocketServerError);
    expect((e as UpbitWebSocketServerError).upbitName).toBe("INVALID_PARAM");
    const drop = await disconnected;
    expect(drop.code).toBe(1000);
    expect(drop.cause).toBe(e);
  });

  it("reports a malformed data frame as a typed error and keeps serving the next ones", async () => {
    const upbit = await FakeUpbit.start({
      onRequest: (ws) => {
        ws.send(JSON.stringify({ ty: "ticker", cd: "KRW-BTC", tp: "not a number" }), { binary: true });
        ws.send(tickerFrame("KRW-ETH", "SIMPLE"), { binary: true });
      },
    });
    const c = client({ url: upbit.url });
    const { seen, next } = watch(c);
    const ticker = next<UpbitTicker>("ticker");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] }]);
    expect((await ticker).market).toBe("KRW-ETH");
    expect(seen.error).toHaveLength(1);
    expect(seen.error[0]).toBeInstanceOf(UpbitWebSocketFrameError);
    expect(seen.disconnect).toEqual([]);
  });

  it("closes the connection for an empty subscription and opens a new one when asked again", async () => {
    const upbit = await FakeUpbit.start();
    const c = client({ url: upbit.url });
    const { seen, next } = watch(c);
    const first = next("ticker");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"] }]);
    await first;
    const closedByClient = once(upbit.sockets[0]!, "close");
    c.setSubscriptions([]);
    expect((await closedByClient)[0]).toBe(1000);
    expect(c.state()).toBe("idle");
    const again = next("ticker");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-ETH"] }]);
    await again;
    expect(seen.disconnect).toEqual([]);
    expect(seen.reconnect).toEqual([]);
    expect(upbit.sockets).toHaveLength(2);
  });

  it("rejects subscriptions Upbit would silently ignore", () => {
    const c = client({ url: "ws://127.0.0.1:9/" });
    expect(() => c.setSubscriptions([{ type: "ticker", codes: ["KRW BTC"] }])).toThrow(/market code/);
    expect(() => c.setSubscriptions([{ type: "orderbook", codes: ["KRW-BTC"], depth: 20 }])).toThrow(/depth/);
    expect(() => c.setSubscriptions([{ type: "orderbook", codes: ["BTC-ETH"], level: 100 }])).toThrow(/KRW markets only/);
    expect(() => c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"], level: 100 }])).toThrow(/orderbook/);
    expect(c.state()).toBe("idle");
  });
});

/** Global timers, counting what is still scheduled. */
function countingTimers(): { timers: UpbitWebSocketTimers; live: Set<unknown> } {
  const live = new Set<unknown>();
  const timers: UpbitWebSocketTimers = {
    setTimeout: (callback, ms) => {
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout: (handle) => {
      live.delete(handle);
      clearTimeout(handle);
    },
    setInterval: (callback, ms) => {
      const handle = setInterval(callback, ms);
      live.add(handle);
      return handle;
    },
    clearInterval: (handle) => {
      live.delete(handle);
      clearInterval(handle);
    },
  };
  return { timers, live };
}

describe("UpbitWebSocketClient.close", () => {
  it("closes the socket with 1000 and leaves no timer, event or reconnect behind", async () => {
    const upbit = await FakeUpbit.start();
    const { timers, live } = countingTimers();
    const c = client({ url: upbit.url, timers, pingIntervalMs: 40, deadAfterMs: 200 });
    const { seen, next } = watch(c);
    const first = next("ticker");
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"] }]);
    await first;
    expect(live.size).toBeGreaterThan(0);

    const serverSaw = once(upbit.sockets[0]!, "close");
    await c.close();
    expect(live.size).toBe(0);
    expect(c.state()).toBe("closed");
    expect((await serverSaw)[0]).toBe(1000);
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-ETH"] }]);
    expect(upbit.sockets).toHaveLength(1);
    expect(seen.disconnect).toEqual([]);
  });

  it("stops retrying when closed while the exchange is unreachable", async () => {
    const gone = await FakeUpbit.start();
    const url = gone.url;
    await gone.stop();
    servers.splice(servers.indexOf(gone), 1);

    const { timers, live } = countingTimers();
    const c = client({ url, timers, reconnectBaseMs: 5, reconnectMaxMs: 10 });
    const { seen, next } = watch(c);
    const secondFailure = next("error", () => seen.error.length >= 2);
    c.setSubscriptions([{ type: "ticker", codes: ["KRW-BTC"] }]);
    await secondFailure;
    expect(seen.error[0]?.name).toBe("UpbitWebSocketConnectionError");
    expect(seen.disconnect).toEqual([]);

    await c.close();
    expect(live.size).toBe(0);
    const errorsAtClose = seen.error.length;
    // Absence can only be shown by waiting: several retry periods pass without a new attempt.
    await delay(60);
    expect(seen.error.length).toBe(errorsAtClose);
    expect(c.state()).toBe("closed");
  });
});
