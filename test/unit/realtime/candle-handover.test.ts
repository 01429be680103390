import { describe, expect, it } from "vitest";
import { GapReason } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import type { CandleInit } from "../../../src/gateway/candles/candle-coordinator.js";
import { CandleHandover, type HandoverAction } from "../../../src/gateway/realtime/candle-handover.js";
import type { CandleTopicEvent } from "../../../src/gateway/realtime/candle-topic.js";

const M = 60_000;
const F = Date.UTC(2025, 0, 1, 1, 0);

function c(t: number, closed: boolean): CandleInit {
  return { timeMs: BigInt(t), open: 1, high: 1, low: 1, close: 1, volume: 1, quoteVolume: 1, synthetic: false, closed };
}

function closedRun(start: number, end: number, times: number[], extra: Partial<Extract<CandleTopicEvent, { kind: "closed" }>> = {}): CandleTopicEvent {
  return { kind: "closed", start, end, candles: times.map((t) => c(t, true)), gaps: [], correction: false, ...extra };
}

function brief(actions: readonly HandoverAction[]): unknown[] {
  return actions.map((a) => (a.kind === "send" ? [a.candle.closed ? "closed" : "forming", Number(a.candle.timeMs) - F] : [a.kind, a.start - F, a.end - F]));
}

describe("CandleHandover", () => {
  it("drops closed buckets the backfill sent and passes on the rest once", () => {
    const h = new CandleHandover(F, F - 30 * M);
    expect(brief(h.plan(closedRun(F - 2 * M, F, [F - 2 * M, F - M]), F - 2 * M))).toEqual([]);
    expect(brief(h.plan({ kind: "forming", candle: c(F - M, false) }, F - 2 * M))).toEqual([]);
    expect(brief(h.plan({ kind: "forming", candle: c(F, false) }, F - 2 * M))).toEqual([["forming", 0]]);
    expect(brief(h.plan(closedRun(F, F + 2 * M, [F, F + M]), F - 2 * M))).toEqual([
      ["closed", 0],
      ["closed", M],
    ]);
    // Sent already: a repeat of the same run is dropped.
    expect(brief(h.plan(closedRun(F, F + 2 * M, [F, F + M]), F - 2 * M))).toEqual([]);
    expect(h.frontier).toBe(F + 2 * M);
  });

  it("fetches closed buckets between the backfill end and where the live feed starts", () => {
    const h = new CandleHandover(F, F - 30 * M);
    expect(brief(h.plan({ kind: "forming", candle: c(F + 2 * M, false) }, F + 2 * M))).toEqual([
      ["fetch", 0, 2 * M],
      ["forming", 2 * M],
    ]);
    expect(brief(h.plan(closedRun(F + 2 * M, F + 3 * M, [F + 2 * M]), F + 2 * M))).toEqual([["closed", 2 * M]]);
  });

  it("fetches a hole before a closed run that starts after the frontier", () => {
    const h = new CandleHandover(F, F);
    expect(brief(h.plan(closedRun(F + M, F + 2 * M, [F + M]), undefined))).toEqual([
      ["fetch", 0, M],
      ["closed", M],
    ]);
  });

  it("passes on gaps inside a run in time order, clipped to what is owed", () => {
    const h = new CandleHandover(F + M, F);
    const run = closedRun(F, F + 4 * M, [F, F + 3 * M], { gaps: [{ start: F, end: F + 3 * M, reason: GapReason.STREAM_INTERRUPTED }] });
    expect(brief(h.plan(run, F))).toEqual([
      ["gap", M, 3 * M],
      ["closed", 3 * M],
    ]);
  });

  it("passes on corrections of buckets already sent, but not of buckets before the stream", () => {
    const h = new CandleHandover(F, F - 2 * M);
    h.plan(closedRun(F, F + 2 * M, [F, F + M]), F);
    const correction = closedRun(F - 3 * M, F + 2 * M, [F - 3 * M, F - M, F + M], { correction: true });
    expect(brief(h.plan(correction, F))).toEqual([
      ["closed", -M],
      ["closed", M],
    ]);
    expect(h.frontier).toBe(F + 2 * M);
  });
});
