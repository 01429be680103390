import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConflatingQueue } from "../../../src/gateway/realtime/conflating-queue.js";

describe("ConflatingQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const never = new AbortController().signal;

  it("keeps only the latest unsent value per market, and marks each market's first value a snapshot", async () => {
    const q = new ConflatingQueue<number>(0, () => Date.now());
    for (let i = 0; i < 1_000; i++) {
      q.offer("KRW-BTC", i);
      q.offer("KRW-ETH", -i);
    }
    expect(q.size).toBe(2);
    expect(q.stats().conflated).toBe(1_998);
    expect(await q.take(never)).toEqual({ market: "KRW-BTC", value: 999, snapshot: true });
    expect(await q.take(never)).toEqual({ market: "KRW-ETH", value: -999, snapshot: true });
    q.offer("KRW-BTC", 1_000);
    expect(await q.take(never)).toEqual({ market: "KRW-BTC", value: 1_000, snapshot: false });
    expect(q.size).toBe(0);
  });

  it("serves markets in the order they became pending, so a busy one cannot starve a quiet one", async () => {
    const q = new ConflatingQueue<string>(0, () => Date.now());
    q.offer("A", "a1");
    q.offer("B", "b1");
    q.offer("A", "a2");
    expect((await q.take(never)).market).toBe("A");
    q.offer("A", "a3");
    expect((await q.take(never)).market).toBe("B");
    expect(await q.take(never)).toMatchObject({ market: "A", value: "a3" });
  });

  it("waits for an offer when nothing is pending", async () => {
    const q = new ConflatingQueue<number>(0, () => Date.now());
    const next = q.take(never);
    q.offer("KRW-BTC", 1);
    expect(await next).toMatchObject({ market: "KRW-BTC", value: 1 });
  });

  it("spaces two sends of one market by min_interval_ms, conflating what arrives in between", async () => {
    const q = new ConflatingQueue<number>(1_000, () => Date.now());
    q.offer("KRW-BTC", 1);
    expect(await q.take(never)).toMatchObject({ value: 1, snapshot: true });
    q.offer("KRW-BTC", 2);
    q.offer("KRW-ETH", 10);
    // ETH has never been sent: it is due at once, BTC is not.
    expect(await q.take(never)).toMatchObject({ market: "KRW-ETH" });
    const next = q.take(never);
    let settled = false;
    void next.then(() => (settled = true));
    q.offer("KRW-BTC", 3);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toMatchObject({ market: "KRW-BTC", value: 3, snapshot: false });
  });

  it("rejects a waiting take once its signal aborts", async () => {
    const q = new ConflatingQueue<number>(0, () => Date.now());
    const abort = new AbortController();
    const next = q.take(abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(next).rejects.toThrow("cancelled");
  });
});
