/**
 * The hub's logic against a fake WebSocket client and a fake store: fan-out order, snapshot
 * dedupe, cache batching and smart routing. The real WebSocket and daemon are in
 * test/integration/gateway-streams.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PutRealtimeRequest } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { RealtimeHub } from "../../../src/gateway/realtime/realtime-hub.js";
import type { RealtimeUpdate } from "../../../src/gateway/realtime/realtime-types.js";
import type { UpbitTicker } from "../../../src/gateway/upstream/upbit-types.js";
import type {
  UpbitWebSocketClient,
  UpbitWebSocketEvents,
  UpbitWebSocketSubscription,
} from "../../../src/gateway/upstream/upbit-websocket-client.js";
import { silentLogger } from "../../../src/shared/logger.js";

const flushMicrotasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));

class FakeWebSocketClient implements UpbitWebSocketClient {
  readonly sets: UpbitWebSocketSubscription[][] = [];
  private readonly listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  setSubscriptions(subscriptions: readonly UpbitWebSocketSubscription[]): void {
    this.sets.push([...subscriptions]);
  }
  on<E extends keyof UpbitWebSocketEvents>(event: E, listener: UpbitWebSocketEvents[E]): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (...args: unknown[]) => void);
    return () => set.delete(listener as (...args: unknown[]) => void);
  }
  emit<E extends keyof UpbitWebSocketEvents>(event: E, ...args: Parameters<UpbitWebSocketEvents[E]>): void {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
  state() {
    return "open" as const;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function ticker(market: string, tradeTimestampMs: number, streamType: "SNAPSHOT" | "REALTIME" = "REALTIME"): UpbitTicker {
  return {
    market,
    tradeTimestampMs,
    openingPrice: 100,
    highPrice: 110,
    lowPrice: 90,
    tradePrice: 100 + (tradeTimestampMs % 7),
    prevClosingPrice: 100,
    change: "EVEN",
    changePrice: 0,
    changeRate: 0,
    signedChangePrice: 0,
    signedChangeRate: 0,
    tradeVolume: 1,
    accTradePrice: 1,
    accTradePrice24h: 1,
    accTradeVolume: 1,
    accTradeVolume24h: 1,
    highest52WeekPrice: 200,
    highest52WeekDate: "2026-01-01",
    lowest52WeekPrice: 50,
    lowest52WeekDate: "2026-02-01",
    timestampMs: tradeTimestampMs + 5,
    streamType,
  };
}

describe("RealtimeHub", () => {
  let ws: FakeWebSocketClient;
  let puts: PutRealtimeRequest[];
  let storeDown: boolean;
  let hub: RealtimeHub;
  beforeEach(() => {
    vi.useFakeTimers();
    ws = new FakeWebSocketClient();
    puts = [];
    storeDown = false;
    const store = {
      putRealtime: (init: object) => {
        if (storeDown) return Promise.reject(new Error("daemon down"));
        puts.push(init as PutRealtimeRequest);
        return Promise.resolve();
      },
    };
    hub = new RealtimeHub({ url: "ws://unused", store, log: silentLogger, client: ws, graceMs: 1_000, autoSubscribe: { reads: 5, windowMs: 10_000 } });
  });
  afterEach(async () => {
    await hub.close();
    vi.useRealTimers();
  });

  it("subscribes upstream once per (type, market) for any number of listeners, in one whole-set call", async () => {
    const subs = Array.from({ length: 1_000 }, (_, i) =>
      hub.subscribe({ type: "ticker", markets: [`KRW-C${i % 7}`, "KRW-BTC"], priority: "NORMAL", onUpdate: () => {} }),
    );
    await flushMicrotasks();
    expect(ws.sets).toHaveLength(1);
    expect(ws.sets[0]).toEqual([{ type: "ticker", codes: ["KRW-BTC", ...Array.from({ length: 7 }, (_, i) => `KRW-C${i}`)] }]);
    for (const s of subs) s.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ws.sets.at(-1)).toEqual([]);
    expect(hub.stats().upstream.topics).toBe(0);
  });

  it("fans each update out CRITICAL first, then HIGH, NORMAL, LOW, first come first served within a priority", () => {
    const order: string[] = [];
    const listen = (name: string, priority: "CRITICAL" | "HIGH" | "NORMAL" | "LOW") =>
      hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority, onUpdate: () => order.push(name) });
    listen("low", "LOW");
    listen("normal-1", "NORMAL");
    listen("critical-1", "CRITICAL");
    listen("high", "HIGH");
    listen("normal-2", "NORMAL");
    listen("critical-2", "CRITICAL");
    ws.emit("ticker", ticker("KRW-BTC", 1_000));
    expect(order).toEqual(["critical-1", "critical-2", "high", "normal-1", "normal-2", "low"]);
  });

  it("keeps the latest value per topic and drops resent snapshots that say nothing new", () => {
    const seen: RealtimeUpdate<"ticker">[] = [];
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "NORMAL", onUpdate: (u) => seen.push(u) });
    ws.emit("ticker", ticker("KRW-BTC", 1_000, "SNAPSHOT"));
    ws.emit("ticker", ticker("KRW-BTC", 2_000));
    // Upbit resends every snapshot when the subscription set changes.
    ws.emit("ticker", ticker("KRW-BTC", 2_000, "SNAPSHOT"));
    // Not subscribed: ignored.
    ws.emit("ticker", ticker("KRW-ETH", 2_000));
    expect(seen.map((u) => [u.value.tradeTimeMs, u.upstreamSnapshot])).toEqual([
      [1_000n, true],
      [2_000n, false],
    ]);
    expect(hub.latest("ticker", "KRW-BTC")?.value.tradeTimeMs).toBe(2_000n);
    expect(hub.latest("ticker", "KRW-ETH")).toBeUndefined();
  });

  it("knows a streamed value current while the feed is alive, and only as of its arrival after a silence or a reconnect", async () => {
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC", "KRW-ETH"], priority: "NORMAL", onUpdate: () => {} });
    expect(hub.currentValue("ticker", "KRW-BTC")).toBeUndefined();
    const t0 = Date.now();
    ws.emit("ticker", ticker("KRW-BTC", 1_000, "SNAPSHOT"));
    await vi.advanceTimersByTimeAsync(1_500);
    // Other markets' frames keep the feed alive: an unchanged BTC is still current now.
    ws.emit("ticker", ticker("KRW-ETH", 1_000));
    expect(hub.currentValue("ticker", "KRW-BTC")).toMatchObject({ asOfMs: t0 + 1_500, value: { tradeTimeMs: 1_000n } });
    // Silence longer than the feed's alive window: only as of its arrival.
    await vi.advanceTimersByTimeAsync(2_001);
    expect(hub.currentValue("ticker", "KRW-BTC")?.asOfMs).toBe(t0);
    // A reconnect: BTC is current again only once a frame of it (here a resent equal snapshot) came after it.
    ws.emit("disconnect", { atMs: Date.now(), lastFrameAtMs: Date.now(), code: 1006, reason: "" });
    ws.emit("ticker", ticker("KRW-ETH", 2_000, "SNAPSHOT"));
    expect(hub.currentValue("ticker", "KRW-BTC")?.asOfMs).toBe(t0);
    await vi.advanceTimersByTimeAsync(10);
    ws.emit("ticker", ticker("KRW-BTC", 1_000, "SNAPSHOT"));
    expect(hub.currentValue("ticker", "KRW-BTC")).toMatchObject({ asOfMs: Date.now(), value: { tradeTimeMs: 1_000n } });
  });

  it("isolates a listener that throws", () => {
    const seen: number[] = [];
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "CRITICAL", onUpdate: () => { throw new Error("bug"); } });
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "LOW", onUpdate: () => seen.push(1) });
    ws.emit("ticker", ticker("KRW-BTC", 1_000));
    expect(seen).toEqual([1]);
  });

  it("batches updates into the realtime cache, latest per market, and carries on while the daemon is down", async () => {
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC", "KRW-ETH"], priority: "NORMAL", onUpdate: () => {} });
    for (let t = 1; t <= 50; t++) ws.emit("ticker", ticker("KRW-BTC", t));
    ws.emit("ticker", ticker("KRW-ETH", 7));
    await vi.advanceTimersByTimeAsync(100);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.tickers!.map((t) => [t.market, t.tradeTimeMs])).toEqual([
      ["KRW-BTC", 50n],
      ["KRW-ETH", 7n],
    ]);

    storeDown = true;
    ws.emit("ticker", ticker("KRW-BTC", 60));
    await vi.advanceTimersByTimeAsync(100);
    expect(hub.stats().cache.failedBatches).toBe(1);
    const seen: bigint[] = [];
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "NORMAL", onUpdate: (u) => seen.push(u.value.tradeTimeMs) });
    ws.emit("ticker", ticker("KRW-BTC", 61));
    expect(seen).toEqual([61n]);
    storeDown = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(puts.at(-1)!.tickers!.map((t) => t.tradeTimeMs)).toEqual([61n]);
  });

  it("auto-subscribes a ticker read more than 5 times in 10 s and drops it once the reads stop", async () => {
    for (let i = 0; i < 5; i++) hub.noteUnaryRead("ticker", ["KRW-BTC", "KRW-ETH"]);
    await flushMicrotasks();
    expect(ws.sets).toEqual([]);
    hub.noteUnaryRead("ticker", "KRW-BTC");
    await flushMicrotasks();
    expect(ws.sets).toEqual([[{ type: "ticker", codes: ["KRW-BTC"] }]]);
    expect(hub.stats().upstream.autoOnly).toBe(1);

    // Its values go to the cache, so the reads are served from there.
    ws.emit("ticker", ticker("KRW-BTC", 1_000, "SNAPSHOT"));
    await vi.advanceTimersByTimeAsync(100);
    expect(puts.at(-1)!.tickers!.map((t) => t.market)).toEqual(["KRW-BTC"]);

    // No more reads: cold after a window (checked every quarter window), then the grace period.
    await vi.advanceTimersByTimeAsync(12_500 + 1_000);
    expect(ws.sets.at(-1)).toEqual([]);
    expect(hub.stats().upstream.topics).toBe(0);
  });

  it("refuses new subscribers once closed and tells the open ones through `closed`", async () => {
    hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "NORMAL", onUpdate: () => {} });
    await hub.close();
    expect(hub.closed.aborted).toBe(true);
    expect(() => hub.subscribe({ type: "ticker", markets: ["KRW-BTC"], priority: "NORMAL", onUpdate: () => {} })).toThrow(/shutting down/);
  });
});
