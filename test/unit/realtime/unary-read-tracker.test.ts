import { describe, expect, it } from "vitest";
import { UnaryReadTracker } from "../../../src/gateway/realtime/unary-read-tracker.js";

describe("UnaryReadTracker", () => {
  it("turns a key hot on the read after the threshold within the window, once", () => {
    const t = new UnaryReadTracker({ reads: 5, windowMs: 10_000 });
    for (let i = 0; i < 5; i++) expect(t.note("ticker|KRW-BTC", 1_000 * i)).toBe(false);
    expect(t.note("ticker|KRW-BTC", 5_000)).toBe(true);
    expect(t.note("ticker|KRW-BTC", 5_001)).toBe(false);
    expect(t.isHot("ticker|KRW-BTC")).toBe(true);
  });

  it("does not count reads spread wider than the window", () => {
    const t = new UnaryReadTracker({ reads: 5, windowMs: 10_000 });
    for (let i = 0; i < 20; i++) expect(t.note("ticker|KRW-BTC", 2_500 * i)).toBe(false);
  });

  it("cools and forgets keys not read for a window", () => {
    const t = new UnaryReadTracker({ reads: 1, windowMs: 1_000 });
    t.note("ticker|KRW-BTC", 0);
    t.note("ticker|KRW-BTC", 10);
    t.note("orderbook|KRW-ETH", 500);
    expect(t.sweep(999)).toEqual([]);
    expect(t.sweep(1_010)).toEqual(["ticker|KRW-BTC"]);
    expect(t.size).toBe(1);
    expect(t.sweep(1_500)).toEqual([]);
    expect(t.size).toBe(0);
  });
});
