/**
 * StreamTickers and StreamOrderbooks end to end: gRPC clients, a gateway front with its own
 * realtime hub (tuned for short grace periods), the real storage daemon process and the
 * simulator's real WebSocket. Upstream subscriptions are read from the simulator's own counters
 * (`/_sim/stats`) as well as from the set the hub hands its WebSocket client.
 */
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  MarketDataService,
  Priority,
  Source,
  StreamOrderbooksRequestSchema,
  type StreamOrderbooksResponse,
  type StreamTickersResponse,
  AskBid,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";

import { type RealtimeHubTuning } from "../../src/gateway/realtime/realtime-hub.js";
import { MAX_STREAM_MARKETS } from "../../src/gateway/realtime/stream-request.js";

import { grpcServiceDefinition } from "../../src/shared/grpc/service-definition.js";

import { type Front, startFront, streamEnd } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

/** The three busiest pairs of the synthetic universe (14-24 trades a minute on average). */
const BUSY = ["KRW-XRP", "KRW-BTC", "KRW-ICP"] as const;
/** Pairs whose books move every 100-400 ms. */
const BUSY_BOOKS = ["KRW-XRP", "KRW-BTC", "KRW-ICP", "KRW-ETH", "KRW-USDT", "KRW-FLOW"] as const;
/** Longest any wait for stream data or a state may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 40_000;
const TUNING: Partial<RealtimeHubTuning> = { graceMs: 500, autoSubscribe: { reads: 5, windowMs: 1_500 } };

interface WebSocketStats {
  connections: number;
  subscriptions: number;
  messagesReceived: number;
}

async function wsStats(stack: Stack): Promise<WebSocketStats> {
  const res = await fetch(`${stack.restUrl}/_sim/stats`);
  return ((await res.json()) as { websocket: WebSocketStats }).websocket;
}

/** Waits for `check` to stop throwing, re-checked every 20 ms (for state nobody announces). */
function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, { timeout: WAIT_LIMIT_MS, interval: 20 });
}

/** Reads `stream` until `done(messages)` holds, then cancels it; returns what arrived. */
async function readUntil<M>(stream: AsyncIterable<M>, abort: AbortController, done: (seen: M[]) => boolean): Promise<M[]> {
  const seen: M[] = [];
  for await (const m of stream) {
    seen.push(m);
    if (done(seen)) break;
  }
  abort.abort();
  return seen;
}

interface Keyed {
  snapshot: boolean;
  market: string;
}

/** Per market: the snapshot flags in arrival order. */
function flagsByMarket(items: readonly Keyed[]): Map<string, boolean[]> {
  const out = new Map<string, boolean[]>();
  for (const i of items) out.set(i.market, [...(out.get(i.market) ?? []), i.snapshot]);
  return out;
}

/** Snapshot first, exactly once, then at least one live update, for every market. */
function hasSnapshotThenLive(items: readonly Keyed[], markets: readonly string[]): boolean {
  const flags = flagsByMarket(items);
  return markets.every((m) => (flags.get(m)?.length ?? 0) >= 2);
}

function expectSnapshotThenLive(items: readonly Keyed[], markets: readonly string[]): void {
  const flags = flagsByMarket(items);
  expect([...flags.keys()].sort()).toEqual([...markets].sort());
  for (const m of markets) {
    const f = flags.get(m)!;
    expect(f[0], `${m}: first message is the snapshot`).toBe(true);
    expect(f.slice(1).every((s) => !s), `${m}: one snapshot, then live updates`).toBe(true);
    expect(f.length).toBeGreaterThanOrEqual(2);
  }
}

describe("live streams end to end", () => {
  let stack: Stack;
  let front: Front;
  let krw: string[];
  /** Process warnings while this file runs (the gateway runs in this process). */
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);

  beforeAll(async () => {
    process.on("warning", onWarning);
    stack = await startStack();
    front = await startFront(stack, { hub: TUNING });
    const { markets } = await stack.client.listMarkets({});
    krw = markets.filter((m) => m.quoteCurrency === "KRW").map((m) => m.market);
  });
  afterAll(async () => {
    process.off("warning", onWarning);
    await front?.close();
    await stack?.stop();
  });

  /** The hub has let go of everything earlier tests subscribed. */
  async function upstreamIdle(): Promise<void> {
    await eventually(() => expect(front.hub.stats().upstream.topics).toBe(0));
  }

  it("streams tickers: the snapshot of every market first, then live updates of each", async () => {
    const abort = new AbortController();
    const stream = front.client.streamTickers({ markets: [...BUSY], priority: Priority.CRITICAL }, { signal: abort.signal });
    const messages = await readUntil<StreamTickersResponse>(stream, abort, (seen) =>
      hasSnapshotThenLive(seen.map((m) => ({ snapshot: m.snapshot, market: m.ticker!.market })), BUSY),
    );
    expectSnapshotThenLive(messages.map((m) => ({ snapshot: m.snapshot, market: m.ticker!.market })), BUSY);
    for (const m of messages) {
      expect(m.ticker!.tradePrice).toBeGreaterThan(0);
      expect(m.ticker!.timestampMs).toBeGreaterThan(0n);
    }
    // Live updates of one market never go back in time.
    for (const market of BUSY) {
      const times = messages.filter((m) => m.ticker!.market === market).map((m) => m.ticker!.tradeTimeMs);
      expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times);
    }
  });

  it("streams order books cut to the depth asked, snapshot first, then live", async () => {
    const markets = BUSY_BOOKS.slice(0, 4);
    const abort = new AbortController();
    const stream = front.client.streamOrderbooks({ markets, depth: 5 }, { signal: abort.signal });
    const messages = await readUntil<StreamOrderbooksResponse>(stream, abort, (seen) =>
      hasSnapshotThenLive(seen.map((m) => ({ snapshot: m.snapshot, market: m.orderbook!.market })), markets),
    );
    expectSnapshotThenLive(messages.map((m) => ({ snapshot: m.snapshot, market: m.orderbook!.market })), markets);
    for (const { orderbook: b } of messages) {
      expect(b!.units.length).toBe(5);
      const asks = b!.units.reduce((s, u) => s + u.askSize, 0);
      expect(b!.totalAskSize).toBeCloseTo(asks, 6);
      expect(b!.units[0]!.askPrice).toBeGreaterThan(b!.units[0]!.bidPrice);
    }

    // Depth 0 means Upbit's full 30 levels.
    const full = new AbortController();
    const [first] = await readUntil(front.client.streamOrderbooks({ markets: ["KRW-BTC"] }, { signal: full.signal }), full, () => true);
    expect(first!.snapshot).toBe(true);
    expect(first!.orderbook!.units.length).toBe(30);
  });

  it("shares one upstream connection and one subscription per (type, market) among 200 clients, dropped after the grace period", async () => {
    await upstreamIdle();
    const pool = krw.slice(0, 8);
    const clients = Array.from({ length: 200 }, (_, i) => {
      const abort = new AbortController();
      const tickers = i % 2 === 0;
      const markets = tickers ? [pool[i % 8]!, pool[(i + 3) % 8]!] : [pool[i % 8]!, pool[(i + 1) % 8]!];
      const stream: AsyncIterable<StreamTickersResponse | StreamOrderbooksResponse> = tickers
        ? front.client.streamTickers({ markets, priority: i % 10 === 0 ? Priority.CRITICAL : Priority.NORMAL }, { signal: abort.signal })
        : front.client.streamOrderbooks({ markets, depth: 1 }, { signal: abort.signal });
      // Each client reads until it holds the snapshot of each of its markets.
      const snapshots = (async () => {
        const seen = new Set<string>();
        for await (const m of stream) {
          const market = m.$typeName === "backbone.marketdata.v1.StreamTickersResponse" ? m.ticker!.market : m.orderbook!.market;
          expect(m.snapshot).toBe(!seen.has(market));
          seen.add(market);
          if (seen.size === markets.length) return seen;
        }
        throw new Error("stream ended early");
      })();
      return { abort, stream, markets, snapshots };
    });
    try {
      for (const c of clients) expect([...(await c.snapshots)].sort()).toEqual([...c.markets].sort());

    const expected = [
      { type: "orderbook", codes: [...pool].sort() },
      { type: "ticker", codes: [...pool].sort() },
    ];
    expect(front.hub.upstreamSubscriptions()).toEqual(expected);
    const ws = await wsStats(stack);
    expect(ws.connections).toBe(1);
    expect(ws.subscriptions).toBe(16);
    // The simulator closes a connection that sends more than 5 messages a second; it never did.
    expect(front.hub.stats().upstream.disconnects).toBe(0);
      expect(front.hub.stats().subscribers).toHaveLength(200);
      // 200 calls in flight each listen on the server's shutdown signal: no "memory leak" warning.
      expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
    } finally {
      for (const c of clients) c.abort.abort();
    }
    await eventually(() => expect(front.hub.stats().subscribers).toHaveLength(0));
    await upstreamIdle();
    await eventually(async () => expect(await wsStats(stack)).toMatchObject({ connections: 0, subscriptions: 0 }));
    expect(front.hub.upstreamSubscriptions()).toEqual([]);
  });

  it("keeps at most one pending update per market for a client that stopped reading", async () => {
    const markets = [...BUSY_BOOKS];
    // A bare HTTP/2 client that never reads the response: flow control then stops the server
    // after the first ~64 KiB. (A paused grpc-js call would not do: grpc-js keeps reading from the
    // connection and buffers the messages itself, without bound.)
    const session = http2.connect(`http://${front.address}`);
    session.on("error", () => {});
    const request = toBinary(StreamOrderbooksRequestSchema, create(StreamOrderbooksRequestSchema, { markets, depth: 30, priority: Priority.LOW }));
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    frame.set(request, 5);
    const call = session.request({
      ":method": "POST",
      ":path": grpcServiceDefinition(MarketDataService).streamOrderbooks!.path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    call.on("error", () => {});
    call.end(frame);
    call.pause();
    try {
      let maxPending = 0;
      const stalled = await eventually(() => {
        const s = front.hub.stats().subscribers.find((x) => x.priority === "LOW");
        expect(s).toBeDefined();
        maxPending = Math.max(maxPending, s!.pending);
        // Blocked on the transport while the markets kept moving: many updates conflated away.
        expect(s!.awaitingTransport).toBe(true);
        expect(s!.conflated).toBeGreaterThan(100);
        return s!;
      });
      expect(maxPending).toBeLessThanOrEqual(markets.length);
      expect(stalled.pending).toBeLessThanOrEqual(markets.length);
      expect(front.hub.stats().maxPending).toBeLessThanOrEqual(markets.length);
    } finally {
      call.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    }
    await eventually(() => expect(front.hub.stats().subscribers).toHaveLength(0));
  });

  it("auto-subscribes tickers read often by unary calls, serves them from the realtime cache, and drops them when the reads stop", async () => {
    await upstreamIdle();
    const market = "KRW-SOL";
    const ask = { markets: [market], priority: Priority.NORMAL };
    const fromFeed = new Promise<void>((resolve) => {
      const off = front.hub.onCacheWritten((batch) => {
        if (!batch.tickers.some((t) => t.market === market)) return;
        off();
        resolve();
      });
    });
    for (let i = 0; i < 5; i++) await front.client.getTickers(ask);
    expect(front.hub.upstreamSubscriptions()).toEqual([]);
    await front.client.getTickers(ask);
    await eventually(() => expect(front.hub.upstreamSubscriptions()).toEqual([{ type: "ticker", codes: [market] }]));
    await fromFeed;

    const before = await stack.traffic();
    const read = await front.client.getTickers(ask);
    const after = await stack.traffic();
    expect(read.meta).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0 });
    expect((after["ticker"]?.requests ?? 0) - (before["ticker"]?.requests ?? 0)).toBe(0);
    // Only the WebSocket feed carries the taker side: this ticker came through the hub.
    expect(read.tickers[0]!.askBid).not.toBe(AskBid.UNSPECIFIED);

    await upstreamIdle();
    expect(front.hub.upstreamSubscriptions()).toEqual([]);
  });

  it("refuses bad requests with the field named, before subscribing anything", async () => {
    const failure = async (stream: AsyncIterable<unknown>) => {
      const e = await streamEnd(stream);
      expect(e).toBeDefined();
      return e!;
    };
    const empty = await failure(front.client.streamTickers({ markets: [] }));
    expect(empty.code).toBe(status.INVALID_ARGUMENT);
    expect(empty.details).toMatch(/^markets: /);

    const malformed = await failure(front.client.streamTickers({ markets: ["KRW-BTC", "krw-eth"] }));
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.details).toContain("markets[1]");

    const unlisted = await failure(front.client.streamOrderbooks({ markets: ["KRW-BTC", "KRW-ETH", "KRW-NOSUCHCOIN"] }));
    expect(unlisted.code).toBe(status.NOT_FOUND);
    expect(unlisted.details).toContain("markets[2]");

    const tooMany = await failure(front.client.streamTickers({ markets: Array.from({ length: MAX_STREAM_MARKETS + 1 }, () => "KRW-BTC") }));
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.details).toContain(String(MAX_STREAM_MARKETS));

    const depth = await failure(front.client.streamOrderbooks({ markets: ["KRW-BTC"], depth: 10 }));
    expect(depth.code).toBe(status.INVALID_ARGUMENT);
    expect(depth.details).toMatch(/^depth: 10 /);

    const priority = await failure(front.client.streamTickers({ markets: ["KRW-BTC"], priority: 9 as Priority }));
    expect(priority.code).toBe(status.INVALID_ARGUMENT);
    expect(priority.details).toMatch(/^priority: /);

    expect(front.hub.stats().subscribers).toHaveLength(0);
  });

  it("ends open streams with UNAVAILABLE when the gateway shuts down", async () => {
    const other = await startFront(stack, { hub: TUNING });
    const stream = other.client.streamTickers({ markets: ["KRW-BTC"] });
    const iterator = stream[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as StreamTickersResponse;
    expect(first.snapshot).toBe(true);
    const end = streamEnd({ [Symbol.asyncIterator]: () => iterator });
    await other.close();
    const e = await end;
    expect(e?.code).toBe(status.UNAVAILABLE);
    expect(e?.details).toContain("shutting down");
  });
});
