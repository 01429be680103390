/**
 * StreamTrades end to end: gRPC clients, the gateway (or a front over the stack's deps with its
 * own hub and a small backlog bound), the real storage daemon process and the simulator's REST
 * and WebSocket, with the simulator's faults (`wsDisconnectEveryMs`, `errorRate`) breaking the
 * upstream. What the stream delivered is compared with the simulator's own trades.
 */
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  GapReason,
  MarketDataService,
  Priority,
  type StreamGap,
  StreamTradesRequestSchema,
  type StreamTradesResponse,
  type Trade,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";

import { MAX_STREAM_MARKETS } from "../../src/gateway/realtime/stream-request.js";
import { createStreamTrades, type StreamTradesOptions, type TradeStreamStats } from "../../src/gateway/realtime/stream-trades.js";
import { upstreamFailureStatus } from "../../src/gateway/upstream-status.js";

import { serverStream } from "../../src/shared/grpc/handlers.js";
import { grpcServiceDefinition } from "../../src/shared/grpc/service-definition.js";
import { silentLogger } from "../../src/shared/logger.js";
import { type Front, startFront, streamEnd } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

/** The three busiest pairs of the synthetic universe (14-24 trades a minute on average). */
const BUSY = ["KRW-XRP", "KRW-BTC", "KRW-ICP"] as const;
/** Longest any wait for stream data or a state may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 40_000;
/** The backlog bound of the test front: small enough for a stalled client to pass it quickly. */
const FRONT_MAX_PENDING = 100;
/** How long the reconnect test streams, as the issue asks. */
const LOSSLESS_STREAM_MS = 60_000;

function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, { timeout: WAIT_LIMIT_MS, interval: 20 });
}

/** A gateway front with its own hub and StreamTrades tuned by `options`; `ended` collects each trade stream's final stats. */
type TradesFront = Front & { readonly ended: TradeStreamStats[] };

async function startTradesFront(stack: Stack, options: StreamTradesOptions = {}): Promise<TradesFront> {
  const ended: TradeStreamStats[] = [];
  const front = await startFront(stack, {
    hub: { graceMs: 500 },
    handlers: (deps, shutdown) => {
      const streamTrades = createStreamTrades(deps, { ...options, onEnded: (s) => ended.push(s) });
      return {
        // The routed handler with this front's tuning, mapped to statuses as the gateway does.
        streamTrades: serverStream(silentLogger, `${MarketDataService.typeName}/StreamTrades`, shutdown, (req, send, ctx) =>
          streamTrades(req as never, send, ctx).catch((e: unknown) => Promise.reject(upstreamFailureStatus(e, deps.now()))),
        ),
      };
    },
  });
  return Object.assign(front, { ended });
}

/** What a trade stream delivered, per market, as it arrives. */
class Received {
  readonly trades = new Map<string, { trade: Trade; snapshot: boolean; atMs: number }[]>();
  readonly gaps: StreamGap[] = [];
  /** Per gap, how many trades of its market had arrived before it. */
  readonly tradesBeforeGap: number[] = [];

  add(m: StreamTradesResponse): void {
    if (m.event.case === "trade") {
      const t = m.event.value;
      const list = this.trades.get(t.market) ?? [];
      list.push({ trade: t, snapshot: m.snapshot, atMs: Date.now() });
      this.trades.set(t.market, list);
    } else if (m.event.case === "gap") {
      this.gaps.push(m.event.value);
      this.tradesBeforeGap.push(this.of(m.event.value.market).length);
    }
  }

  of(market: string): Trade[] {
    return (this.trades.get(market) ?? []).map((x) => x.trade);
  }

  /** Snapshot first, exactly once, then at least `live` live trades, for every market. */
  hasSnapshotThenLive(markets: readonly string[], live = 1): boolean {
    return markets.every((m) => (this.trades.get(m)?.length ?? 0) >= 1 + live);
  }

  expectSnapshotThenLive(markets: readonly string[]): void {
    expect([...this.trades.keys()].sort()).toEqual([...markets].sort());
    for (const m of markets) {
      const flags = this.trades.get(m)!.map((x) => x.snapshot);
      expect(flags[0], `${m}: first message is the snapshot`).toBe(true);
      expect(flags.slice(1).every((s) => !s), `${m}: one snapshot, then live trades`).toBe(true);
    }
  }

  expectStrictlyIncreasing(market: string, context = ""): void {
    const list = this.trades.get(market) ?? [];
    const ids = list.map((x) => x.trade.sequentialId);
    const around = (i: number) =>
      list
        .slice(Math.max(0, i - 4), i + 4)
        .map((x) => `${x.trade.sequentialId}${x.snapshot ? "S" : ""}@${x.atMs}`)
        .join(" ");
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${market}: ${ids[i]} after ${ids[i - 1]}: ${around(i)} ${context}`).toBe(true);
  }
}

/** Whether a simulator trade comes after the stream's snapshot in Upbit's (time, id) order. */
function afterSnapshot(t: { timestampMs: number; sequentialId: bigint }, snapshot: Trade): boolean {
  const ms = BigInt(t.timestampMs);
  return ms > snapshot.tradeTimeMs || (ms === snapshot.tradeTimeMs && t.sequentialId > snapshot.sequentialId);
}

/** Reads `stream` into `into` until it ends or is cancelled; never rejects. */
function consume(stream: AsyncIterable<StreamTradesResponse>, into: Received, onMessage?: () => void): Promise<ServiceError | undefined> {
  return (async () => {
    try {
      for await (const m of stream) {
        into.add(m);
        onMessage?.();
      }
      return undefined;
    } catch (e) {
      return e as ServiceError;
    }
  })();
}

describe("StreamTrades end to end", () => {
  let stack: Stack;
  let front: TradesFront;
  let krw: string[];

  beforeAll(async () => {
    stack = await startStack();
    front = await startTradesFront(stack, { maxPending: FRONT_MAX_PENDING });
    const { markets } = await stack.client.listMarkets({});
    krw = markets.filter((m) => m.quoteCurrency === "KRW").map((m) => m.market);
  });
  afterAll(async () => {
    await front?.close();
    await stack?.stop();
  });

  it("streams the latest trade of every market as its snapshot, then live trades in order", async () => {
    const abort = new AbortController();
    const received = new Received();
    const done = new Promise<void>((resolve) => {
      void consume(stack.client.streamTrades({ markets: [...BUSY], priority: Priority.CRITICAL }, { signal: abort.signal }), received, () => {
        if (received.hasSnapshotThenLive(BUSY)) resolve();
      });
    });
    await done;
    abort.abort();
    received.expectSnapshotThenLive(BUSY);
    expect(received.gaps).toEqual([]);
    for (const market of BUSY) {
      received.expectStrictlyIncreasing(market);
      // The live trades are the simulator's, complete from the first live one on.
      const trades = received.of(market);
      const live = trades.slice(1);
      const expected = stack.sim.exchange
        .trades(market, Number(live[0]!.tradeTimeMs), Number(live.at(-1)!.tradeTimeMs) + 1)
        .filter((t) => afterSnapshot(t, trades[0]!));
      expect(live.map((t) => t.sequentialId)).toEqual(expected.slice(0, live.length).map((t) => t.sequentialId));
      for (const t of trades) expect(t.tradePrice).toBeGreaterThan(0);
    }
  });

  it("sends an explicit gap where trades were lost and REST cannot backfill them, then resumes", async () => {
    const abort = new AbortController();
    const received = new Received();
    const stream = front.client.streamTrades({ markets: [...BUSY] }, { signal: abort.signal });
    const ended = consume(stream, received);
    try {
      // Every market past its snapshot, so a reconnect has something to recover.
      await eventually(() => expect(received.hasSnapshotThenLive(BUSY, 0)).toBe(true));
      const disconnects = front.hub.stats().upstream.disconnects;
      await stack.setFaults({ errorRate: 1, wsDisconnectEveryMs: 200 });
      await eventually(() => expect(front.hub.stats().upstream.disconnects).toBeGreaterThan(disconnects));
      await stack.setFaults({ wsDisconnectEveryMs: null });
      // REST answers 5xx (after the client's retries): every market gets a gap notice.
      await eventually(() => expect(new Set(received.gaps.map((g) => g.market))).toEqual(new Set(BUSY)));
      await stack.setFaults({ errorRate: 0 });
      // Trades flow again after the gap for at least one market (the quieter ones may be idle).
      await eventually(() => expect(BUSY.some((m) => received.of(m).length > received.tradesBeforeGap[received.gaps.findIndex((g) => g.market === m)]!)).toBe(true));
    } finally {
      await stack.resetSim();
      abort.abort();
    }
    await ended;
    for (const [i, gap] of received.gaps.entries()) {
      expect(gap.reason).toBe(GapReason.UPSTREAM_UNAVAILABLE);
      // From the last trade delivered before it; trades after it never go back before its start.
      const before = received.of(gap.market).slice(0, received.tradesBeforeGap[i]);
      expect(gap.startMs).toBe(before.at(-1)!.tradeTimeMs);
      expect(gap.endMs).toBeGreaterThan(gap.startMs);
      for (const t of received.of(gap.market).slice(received.tradesBeforeGap[i])) expect(t.tradeTimeMs).toBeGreaterThanOrEqual(gap.startMs);
    }
    for (const market of BUSY) received.expectStrictlyIncreasing(market);
  });

  it("ends a stalled consumer with RESOURCE_EXHAUSTED once its backlog passes the bound, never holding more", async () => {
    const markets = krw.slice(0, 200);
    // A bare HTTP/2 client with a 1 KiB stream window that never reads: the server can send ~10
    // trades, grpc-js buffers a few more, and the rest (200 snapshots at once) is backlog.
    const session = http2.connect(`http://${front.address}`, { settings: { initialWindowSize: 1024 } });
    session.on("error", () => {});
    const request = toBinary(StreamTradesRequestSchema, create(StreamTradesRequestSchema, { markets, priority: Priority.LOW }));
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    frame.set(request, 5);
    const call = session.request({
      ":method": "POST",
      ":path": grpcServiceDefinition(MarketDataService).streamTrades!.path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    call.on("error", () => {});
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => call.on("trailers", resolve));
    call.end(frame);
    call.pause();
    try {
      let maxPending = 0;
      // Only this test streams at LOW.
      const stats = await eventually(() => {
        const s = front.hub.stats().subscribers.find((x) => x.priority === "LOW");
        if (s !== undefined) maxPending = Math.max(maxPending, s.pending);
        const done = front.ended.find((x) => x.priority === "LOW");
        expect(done).toBeDefined();
        return done!;
      });
      expect(stats.end).toBe("overflow");
      expect(stats.markets).toBe(markets.length);
      expect(stats.maxPending).toBe(FRONT_MAX_PENDING);
      expect(stats.peakPending).toBe(FRONT_MAX_PENDING);
      expect(maxPending).toBeLessThanOrEqual(FRONT_MAX_PENDING);
      expect(front.hub.stats().subscribers.find((x) => x.priority === "LOW")).toBeUndefined();
      // Reading now lets the buffered trades and then the status through.
      call.resume();
      const t = await trailers;
      expect(Number(t["grpc-status"])).toBe(status.RESOURCE_EXHAUSTED);
      expect(decodeURIComponent(String(t["grpc-message"]))).toMatch(/fell behind: \d+ trades .* more than the 100 one stream may hold/);
    } finally {
      call.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    }
  });

  it("refuses bad requests with the field named, before subscribing anything", async () => {
    const failure = async (stream: AsyncIterable<unknown>) => {
      const e = await streamEnd(stream);
      expect(e).toBeDefined();
      return e!;
    };
    const empty = await failure(stack.client.streamTrades({ markets: [] }));
    expect(empty.code).toBe(status.INVALID_ARGUMENT);
    expect(empty.details).toMatch(/^markets: /);

    const malformed = await failure(stack.client.streamTrades({ markets: ["KRW-BTC", "krw-eth"] }));
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.details).toContain("markets[1]");

    const unlisted = await failure(stack.client.streamTrades({ markets: ["KRW-BTC", "KRW-ETH", "KRW-NOSUCHCOIN"] }));
    expect(unlisted.code).toBe(status.NOT_FOUND);
    expect(unlisted.details).toContain("markets[2]");

    const tooMany = await failure(stack.client.streamTrades({ markets: Array.from({ length: MAX_STREAM_MARKETS + 1 }, () => "KRW-BTC") }));
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.details).toContain(String(MAX_STREAM_MARKETS));

    const priority = await failure(stack.client.streamTrades({ markets: ["KRW-BTC"], priority: 9 as Priority }));
    expect(priority.code).toBe(status.INVALID_ARGUMENT);
    expect(priority.details).toMatch(/^priority: /);

    expect(stack.gateway.deps.hub.stats().subscribers.filter((s) => s.type === "trade")).toHaveLength(0);
  });
});

describe("StreamTrades across upstream reconnects", () => {
  let stack: Stack;
  let front: TradesFront;

  beforeAll(async () => {
    stack = await startStack();
    front = await startTradesFront(stack);
  });
  afterAll(async () => {
    await front?.close();
    await stack?.stop();
  });

  it(
    "loses and duplicates nothing over a 60 s stream with the upstream dropped every 3 s",
    async () => {
      const abort = new AbortController();
      const received = new Received();
      /** Upstream outages seen by the hub: [last frame before the drop, first frame after]. */
      const outages: [number, number][] = [];
      const offReconnect = front.hub.onUpstream("reconnect", (e) => outages.push([e.fromMs, e.toMs]));
      const stream = front.client.streamTrades({ markets: [...BUSY], priority: Priority.CRITICAL }, { signal: abort.signal });
      const ended = consume(stream, received);
      try {
        await eventually(() => expect(received.hasSnapshotThenLive(BUSY, 0)).toBe(true));
        await stack.setFaults({ wsDisconnectEveryMs: 3_000 });
        // The workload's length, not a synchronisation: stream for the 60 s.
        await new Promise((resolve) => setTimeout(resolve, LOSSLESS_STREAM_MS));
      } finally {
        await stack.resetSim();
        abort.abort();
        offReconnect();
      }
      await ended;
      await eventually(() => expect(front.ended).toHaveLength(1));
      const stats = front.ended[0]!;

      expect(outages.length).toBeGreaterThanOrEqual(10);
      expect(stats.recoveries).toBeGreaterThanOrEqual(outages.length);
      expect(received.gaps).toEqual([]);
      received.expectSnapshotThenLive(BUSY);
      let duringOutages = 0;
      for (const market of BUSY) {
        received.expectStrictlyIncreasing(market, `outages ${JSON.stringify(outages)}`);
        const trades = received.of(market);
        const firstLive = trades[1];
        if (firstLive === undefined) continue;
        const fromMs = Number(firstLive.tradeTimeMs);
        const toMs = Number(trades.at(-1)!.tradeTimeMs);
        // [first live trade, last received) holds exactly the simulator's trades, each once.
        const got = trades.filter((t) => Number(t.tradeTimeMs) >= fromMs && Number(t.tradeTimeMs) < toMs).map((t) => t.sequentialId);
        const expected = stack.sim.exchange
          .trades(market, fromMs, toMs)
          .filter((t) => afterSnapshot(t, trades[0]!))
          .map((t) => t.sequentialId);
        expect(got, `${market}: ${expected.length} trades from ${fromMs} to ${toMs}`).toEqual(expected);
        duringOutages += trades.filter((t) => outages.some(([from, to]) => Number(t.tradeTimeMs) > from && Number(t.tradeTimeMs) < to)).length;
      }
      // Trades made while the upstream was down arrived all the same: backfill did its job.
      expect(duringOutages).toBeGreaterThan(0);
      expect(stats.backfilled).toBeGreaterThan(0);
    },
    LOSSLESS_STREAM_MS + 60_000,
  );
});
