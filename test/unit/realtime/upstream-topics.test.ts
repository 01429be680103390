import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UpstreamTopics } from "../../../src/gateway/realtime/upstream-topics.js";
import type { UpbitWebSocketSubscription } from "../../../src/gateway/upstream/upbit-websocket-client.js";

const flushMicrotasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("UpstreamTopics", () => {
  let applied: UpbitWebSocketSubscription[][];
  let dropped: string[];
  let topics: UpstreamTopics;
  beforeEach(() => {
    vi.useFakeTimers();
    applied = [];
    dropped = [];
    topics = new UpstreamTopics({ graceMs: 10_000, apply: (s) => applied.push(s), onDropped: (type, market) => dropped.push(`${type}|${market}`) });
  });
  afterEach(() => {
    topics.close();
    vi.useRealTimers();
  });

  it("merges a burst of a thousand subscriptions into one whole-set apply, one entry per (type, market)", async () => {
    for (let i = 0; i < 1_000; i++) {
      topics.retain("ticker", `KRW-C${i % 10}`);
      topics.retain("orderbook", `KRW-C${i % 3}`);
    }
    await flushMicrotasks();
    expect(applied).toHaveLength(1);
    expect(applied[0]).toEqual([
      { type: "orderbook", codes: ["KRW-C0", "KRW-C1", "KRW-C2"] },
      { type: "ticker", codes: Array.from({ length: 10 }, (_, i) => `KRW-C${i}`) },
    ]);
    // More listeners on known topics change nothing upstream.
    topics.retain("ticker", "KRW-C1");
    await flushMicrotasks();
    expect(applied).toHaveLength(1);
  });

  it("drops a topic only a grace period after its last listener left", async () => {
    topics.retain("ticker", "KRW-BTC");
    topics.retain("ticker", "KRW-BTC");
    await flushMicrotasks();
    topics.release("ticker", "KRW-BTC");
    topics.release("ticker", "KRW-BTC");
    expect(topics.counts()).toEqual({ topics: 1, autoOnly: 0, inGrace: 1 });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(topics.has("ticker", "KRW-BTC")).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(topics.has("ticker", "KRW-BTC")).toBe(false);
    expect(dropped).toEqual(["ticker|KRW-BTC"]);
    expect(applied.at(-1)).toEqual([]);
  });

  it("keeps a topic whose listener came back within the grace period", async () => {
    topics.retain("orderbook", "KRW-BTC");
    topics.release("orderbook", "KRW-BTC");
    await vi.advanceTimersByTimeAsync(5_000);
    topics.retain("orderbook", "KRW-BTC");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(topics.has("orderbook", "KRW-BTC")).toBe(true);
    expect(dropped).toEqual([]);
  });

  it("holds auto-subscribed topics without listeners until unary reads stop wanting them", async () => {
    topics.setAuto("ticker", "KRW-ETH", true);
    topics.retain("ticker", "KRW-ETH");
    topics.release("ticker", "KRW-ETH");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(topics.counts()).toEqual({ topics: 1, autoOnly: 1, inGrace: 0 });
    topics.setAuto("ticker", "KRW-ETH", false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(topics.has("ticker", "KRW-ETH")).toBe(false);
  });
});
