import { describe, expect, it } from "vitest";
import { CandleSettler, DEFAULT_SETTLE_MS, type LiveCandle, type SettledSegment } from "../../../src/gateway/realtime/candle-settler.js";
import type { UpbitCandleUpdate } from "../../../src/gateway/upstream/upbit-types.js";

const M = 60_000;
const T0 = Date.UTC(2025, 0, 1, 0, 0);

function candle(timeMs: number, receivedAtMs: number, close = 100): LiveCandle {
  const value: UpbitCandleUpdate = {
    type: "candle.1m",
    market: "KRW-BTC",
    timeMs,
    open: 100,
    high: Math.max(100, close),
    low: Math.min(100, close),
    close,
    volume: 1,
    quoteVolume: close,
    timestampMs: receivedAtMs,
  };
  return { value, receivedAtMs };
}

function shape(segments: readonly SettledSegment[]): unknown[] {
  return segments.map((s) => (s.verified ? { start: s.start, end: s.end, times: s.candles.map((c) => c.timeMs), byTime: s.byTime } : { start: s.start, end: s.end, verified: false }));
}

describe("CandleSettler", () => {
  it("closes a bucket when the next bucket's first update arrives, vouching for an update pushed well before its end", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    expect(s.offer(candle(T0, T0 + 10_000), T0 + 10_000)).toEqual({ fresh: true, settled: [] });
    s.offer(candle(T0, T0 + 30_000, 101), T0 + 30_000);
    const { fresh, settled } = s.offer(candle(T0 + M, T0 + M + 5_000), T0 + M + 5_000);
    expect(fresh).toBe(true);
    expect(shape(settled)).toEqual([{ start: T0, end: T0 + M, times: [T0], byTime: false }]);
    // The last update wins.
    expect(settled[0]!.verified && settled[0]!.candles[0]!.close).toBe(101);
    expect(s.knownFrom).toBe(T0);
    expect(s.settledEnd).toBe(T0 + M);
  });

  it("does not vouch for a bucket whose last update came within one push interval of its end", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + M - 500), T0 + M - 500);
    const { settled } = s.offer(candle(T0 + M, T0 + M + 800), T0 + M + 800);
    expect(shape(settled)).toEqual([{ start: T0, end: T0 + M, verified: false }]);
  });

  it("vouches for a bucket whose last update was pushed after its end", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + M - 500), T0 + M - 500);
    s.offer(candle(T0, T0 + M + 300), T0 + M + 300);
    const { settled } = s.offer(candle(T0 + M, T0 + M + 1_400), T0 + M + 1_400);
    expect(shape(settled)).toEqual([{ start: T0, end: T0 + M, times: [T0], byTime: false }]);
  });

  it("counts buckets without updates between two live candles as known empty", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + 1_000), T0 + 1_000);
    const { settled } = s.offer(candle(T0 + 3 * M, T0 + 3 * M + 2_000), T0 + 3 * M + 2_000);
    expect(shape(settled)).toEqual([{ start: T0, end: T0 + 3 * M, times: [T0], byTime: false }]);
  });

  it("closes buckets by time once the settle delay after their end passed", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + 1_000), T0 + 1_000);
    expect(s.nextDeadline()).toBe(T0 + M + DEFAULT_SETTLE_MS);
    expect(s.advance(T0 + M + DEFAULT_SETTLE_MS - 1)).toEqual([]);
    expect(shape(s.advance(T0 + M + DEFAULT_SETTLE_MS))).toEqual([{ start: T0, end: T0 + M, times: [T0], byTime: true }]);
    // An empty bucket closes by time as well.
    expect(shape(s.advance(T0 + 2 * M + DEFAULT_SETTLE_MS))).toEqual([{ start: T0 + M, end: T0 + 2 * M, times: [], byTime: true }]);
  });

  it("leaves buckets touched by a lost window to REST and vouches again after it", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + 1_000), T0 + 1_000);
    s.disconnected(T0 + M + 10_000, T0 + M + 12_000);
    s.reconnected(T0 + M + 10_000, T0 + M + 13_000);
    const { settled } = s.offer(candle(T0 + 3 * M, T0 + 3 * M + 2_000), T0 + 3 * M + 2_000);
    expect(shape(settled)).toEqual([
      { start: T0, end: T0 + M, times: [T0], byTime: false },
      { start: T0 + M, end: T0 + 2 * M, verified: false },
      { start: T0 + 2 * M, end: T0 + 3 * M, times: [], byTime: false },
    ]);
  });

  it("vouches for nothing after the last frame while the connection is down", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + 1_000), T0 + 1_000);
    s.disconnected(T0 + 30_000, T0 + 40_000);
    expect(shape(s.advance(T0 + 2 * M + DEFAULT_SETTLE_MS))).toEqual([{ start: T0, end: T0 + 2 * M, verified: false }]);
  });

  it("ignores updates of buckets already settled (a resent snapshot after a reconnect)", () => {
    const s = new CandleSettler({ timeframe: "1m" });
    s.offer(candle(T0, T0 + 1_000), T0 + 1_000);
    s.offer(candle(T0 + M, T0 + M + 1_000), T0 + M + 1_000);
    expect(s.offer(candle(T0, T0 + M + 2_000, 150), T0 + M + 2_000)).toEqual({ fresh: false, settled: [] });
  });
});
