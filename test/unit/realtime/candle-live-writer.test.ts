import { describe, expect, it } from "vitest";
import { columnsLength } from "../../../src/shared/candle-columns.js";
import { silentLogger } from "../../../src/shared/logger.js";
import { CandleLiveWriter, type LiveWrite } from "../../../src/gateway/realtime/candle-live-writer.js";
import type { CandleSegmentToWrite } from "../../../src/gateway/store-client.js";
import type { UpbitCandleUpdate } from "../../../src/gateway/upstream/upbit-types.js";

const M = 60_000;
const T0 = Date.UTC(2025, 0, 1);

function update(timeMs: number): UpbitCandleUpdate {
  return { type: "candle.1m", market: "KRW-BTC", timeMs, open: 1, high: 2, low: 1, close: 2, volume: 3, quoteVolume: 5, timestampMs: timeMs + 1 };
}

function writer(holdMs = 10_000): { w: CandleLiveWriter; segments: CandleSegmentToWrite[]; written: LiveWrite[] } {
  const segments: CandleSegmentToWrite[] = [];
  const written: LiveWrite[] = [];
  const store = { write: (s: readonly CandleSegmentToWrite[]) => Promise.resolve(void segments.push(...s)) };
  return { w: new CandleLiveWriter("KRW-BTC", "1m", store, silentLogger, (x) => written.push(x), holdMs), segments, written };
}

describe("CandleLiveWriter", () => {
  it("writes a run closed by a later update at once, with its coverage and empty buckets", async () => {
    const { w, segments, written } = writer();
    w.offer({ start: T0, end: T0 + 3 * M, candles: [update(T0), update(T0 + 2 * M)], byTime: false }, T0 + 3 * M);
    await w.close();
    expect(segments).toHaveLength(1);
    expect(segments[0]!.verified).toEqual([{ start: T0, end: T0 + 3 * M }]);
    expect(columnsLength(segments[0]!.candles)).toBe(2);
    expect([...segments[0]!.candles.time].map(Number)).toEqual([T0, T0 + 2 * M]);
    expect(written).toEqual([{ market: "KRW-BTC", timeframe: "1m", verified: { start: T0, end: T0 + 3 * M }, candles: 2 }]);
  });

  it("holds a run closed by time and writes it once the hold passed", async () => {
    const { w, segments } = writer(10_000);
    w.offer({ start: T0, end: T0 + M, candles: [update(T0)], byTime: true }, T0 + M + 2_000);
    expect(w.nextDeadline()).toBe(T0 + M + 12_000);
    w.flushDue(T0 + M + 11_999);
    w.flushDue(T0 + M + 12_000);
    await w.close();
    expect(segments.map((s) => s.verified)).toEqual([[{ start: T0, end: T0 + M }]]);
  });

  it("never writes a held run a later-reported loss window touches", async () => {
    const { w, segments } = writer(10_000);
    w.offer({ start: T0, end: T0 + M, candles: [update(T0)], byTime: true }, T0 + M + 2_000);
    w.offer({ start: T0 + M, end: T0 + 2 * M, candles: [], byTime: true }, T0 + 2 * M + 2_000);
    // The connection's last frame was inside the second bucket.
    w.dropAfter(T0 + M + 30_000);
    w.flushDue(T0 + 5 * M);
    await w.close();
    expect(segments.map((s) => s.verified)).toEqual([[{ start: T0, end: T0 + M }]]);
  });
});
