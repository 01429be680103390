import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { CandleInit } from "../../../src/gateway/candles/candle-coordinator.js";
import { CandleEventQueue } from "../../../src/gateway/realtime/candle-event-queue.js";
import type { CandleTopicEvent } from "../../../src/gateway/realtime/candle-topic.js";

function c(t: number, closed: boolean, close = 1): CandleInit {
  return { timeMs: BigInt(t), open: 1, high: close, low: 1, close, volume: 1, quoteVolume: 1, synthetic: false, closed };
}
const forming = (t: number, close: number): CandleTopicEvent => ({ kind: "forming", candle: c(t, false, close) });
const closed = (t: number): CandleTopicEvent => ({ kind: "closed", start: t, end: t + 1, candles: [c(t, true)], gaps: [], correction: false });

describe("CandleEventQueue", () => {
  it("keeps only the newest forming update and every closed run, in order", async () => {
    const q = new CandleEventQueue(10);
    q.offer(forming(0, 1));
    q.offer(forming(0, 2));
    q.offer(closed(0));
    q.offer(forming(1, 3));
    const signal = new AbortController().signal;
    const taken = [await q.take(signal), await q.take(signal)];
    expect(taken).toEqual([closed(0), forming(1, 3)]);
    expect(q.conflated).toBe(2);
  });

  it("ends with RESOURCE_EXHAUSTED when more closed candles wait than its bound", async () => {
    const q = new CandleEventQueue(2);
    q.offer(closed(0));
    q.offer(closed(1));
    q.offer(closed(2));
    await expect(q.take(new AbortController().signal)).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });

  it("wakes a waiting taker", async () => {
    const q = new CandleEventQueue();
    const next = q.take(new AbortController().signal);
    q.offer(closed(5));
    await expect(next).resolves.toEqual(closed(5));
  });
});
