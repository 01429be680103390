/**
 * StreamCandles end to end: gRPC clients, a gateway front with its own realtime hub, the real
 * storage daemon process and the simulator (REST and WebSocket). Closed candles are checked one
 * by one against the simulator's own candles; what the live writer stored is checked through
 * the daemon's StorageService and through GetCandles' own account of its upstream calls.
 *
 * Live buckets close in real time: the 1-minute tests run concurrently (a few minutes), the
 * reconnect test uses 1-second candles and runs alone (its fault drops every connection).
 */
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Candle, Priority, Source, type StreamCandlesResponse, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";

import type { LiveWrite } from "../../src/gateway/realtime/candle-live-writer.js";
import { candleTopicsFor } from "../../src/gateway/realtime/candle-topics.js";

import type { UpbitWebSocketReconnect } from "../../src/gateway/upstream/upbit-websocket-client.js";
import { createGrpcClient } from "../../src/shared/grpc/client.js";

import { bucketCeil, bucketStart, MINUTE_MS, SECOND_MS } from "../../src/shared/time.js";
import type { Timeframe as Tf } from "../../src/shared/timeframe.js";
import { fixedDecimalText } from "../../src/shared/decimal-text.js";
import { AMOUNT_FRACTION_DIGITS } from "../../src/upbit-sim/upbit-json.js";
import { type Front, startFront } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";

/** Longest a stream test may take: the live-only test waits for a 1-minute bucket to close, in real time. */
const LIVE_TEST_MS = 240_000;
/** Longest a wait for a state may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 150_000;

/** Reads `stream` until `done(messages)` holds, then cancels it; returns what arrived. */
async function readUntil<M>(stream: AsyncIterable<M>, abort: AbortController, done: (seen: M[]) => boolean): Promise<M[]> {
  const seen: M[] = [];
  try {
    for await (const m of stream) {
      seen.push(m);
      if (done(seen)) break;
    }
  } finally {
    abort.abort();
  }
  return seen;
}

async function errorOf(stream: AsyncIterable<unknown>): Promise<ServiceError | undefined> {
  try {
    for await (const _ of stream) {
      // Only the end matters.
    }
    return undefined;
  } catch (e) {
    return e as ServiceError;
  }
}

const spelled = (n: number): number => Number(fixedDecimalText(n, AMOUNT_FRACTION_DIGITS));

/** A candle's time and values as Upbit's REST spells them (8 decimals). */
function row(c: Candle): number[] {
  return [Number(c.timeMs), ...[c.open, c.high, c.low, c.close, c.volume, c.quoteVolume].map(spelled)];
}

/** The simulator's own candles of `[start, end)`, ascending, spelled like REST. */
function simRows(stack: Stack, market: string, tf: Tf, start: number, end: number): number[][] {
  const bucketMs = tf === "1s" ? SECOND_MS : MINUTE_MS;
  const count = Math.ceil((end - start) / bucketMs) + 1;
  return stack.sim.exchange
    .candles(market, tf, end, count)
    .filter((c) => c.timeMs >= start)
    .reverse()
    .map((c) => [c.timeMs, ...[c.open, c.high, c.low, c.close, c.volume, c.quoteVolume].map(spelled)]);
}

/**
 * Rows of `got` that differ from `want`: same bucket times, values equal to the 8th decimal. One
 * unit of the 8th decimal is let through: the simulator sums a forming candle's quote volume in
 * another order than the closed one, and a last-ulp difference may round either way.
 */
function mismatches(got: readonly number[][], want: readonly number[][]): unknown[] {
  const out: unknown[] = [];
  if (got.length !== want.length) out.push({ got: got.map((r) => r[0]), want: want.map((r) => r[0]) });
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (g[0] !== w[0] || g.some((v, j) => Math.abs(v - w[j]!) > 1.01e-8)) out.push({ got: g, want: w });
  }
  return out;
}

function candlesOf(messages: readonly StreamCandlesResponse[]): Candle[] {
  return messages.flatMap((m) => (m.event.case === "candle" ? [m.event.value] : []));
}

describe("StreamCandles against the simulator", () => {
  let stack: Stack;
  let front: Front;

  beforeAll(async () => {
    stack = await startStack();
    front = await startFront(stack, { hub: { graceMs: 500 } });
  });
  afterAll(async () => {
    await front?.close();
    await stack?.stop();
  });

  describe.concurrent("history, handover and live", () => {
    it(
      "sends stored history, the backfill marker, then live candles, with no gap and no duplicate at the handover",
      async () => {
        const market = "KRW-XRP";
        // 1-second buckets: the handover is exercised in seconds, not minutes.
        const since = Date.now() - 5 * MINUTE_MS;
        const abort = new AbortController();
        const stream = front.client.streamCandles({ market, timeframe: Timeframe.SECOND_1, sinceMs: BigInt(since), priority: Priority.HIGH }, { signal: abort.signal });
        let endMs: number | undefined;
        const messages = await readUntil(stream, abort, (seen) => {
          const last = seen.at(-1)!;
          if (last.event.case === "backfillComplete") endMs = Number(last.event.value.endMs);
          if (endMs === undefined) return false;
          const liveClosed = new Set(candlesOf(seen).filter((c) => c.closed && Number(c.timeMs) >= endMs!).map((c) => c.timeMs));
          return liveClosed.size >= 2;
        });
        expect(endMs).toBeDefined();
        const marker = messages.findIndex((m) => m.event.case === "backfillComplete");
        expect(messages.filter((m) => m.event.case === "backfillComplete")).toHaveLength(1);
        expect(messages.filter((m) => m.event.case === "gap")).toEqual([]);

        // History: closed, ascending, inside [since, end_ms).
        const history = candlesOf(messages.slice(0, marker));
        expect(history.length).toBeGreaterThan(20);
        expect(history.every((c) => c.closed && !c.synthetic)).toBe(true);
        const historyTimes = history.map((c) => Number(c.timeMs));
        expect(historyTimes).toEqual([...historyTimes].sort((a, b) => a - b));
        expect(historyTimes[0]).toBeGreaterThanOrEqual(since);
        expect(historyTimes.at(-1)).toBeLessThan(endMs!);

        // Live: forming updates at or after end_ms, and closed buckets.
        const live = candlesOf(messages.slice(marker + 1));
        expect(live.some((c) => !c.closed)).toBe(true);
        expect(live.every((c) => Number(c.timeMs) >= endMs!)).toBe(true);

        // The union of closed candles is the simulator's, each bucket exactly once.
        const closed = candlesOf(messages).filter((c) => c.closed);
        const times = closed.map((c) => Number(c.timeMs));
        expect(new Set(times).size, "no bucket twice").toBe(times.length);
        const lastClosedEnd = Math.max(...times) + SECOND_MS;
        const first = bucketCeil("1s", since);
        expect(mismatches(closed.map(row), simRows(stack, market, "1s", first, lastClosedEnd))).toEqual([]);
      },
      LIVE_TEST_MS,
    );

    it(
      "streams live only: the forming candle, its updates not closed, then the bucket closed",
      async () => {
        const market = "KRW-BTC";
        const abort = new AbortController();
        const stream = front.client.streamCandles({ market, timeframe: Timeframe.MINUTE_1 }, { signal: abort.signal });
        const messages = await readUntil(stream, abort, (seen) => candlesOf(seen).some((c) => c.closed));
        expect(messages.every((m) => m.event.case === "candle")).toBe(true);
        const candles = candlesOf(messages);
        const firstClosed = candles.findIndex((c) => c.closed);
        expect(firstClosed).toBeGreaterThan(0);
        const forming = candles.slice(0, firstClosed);
        expect(forming.every((c) => !c.closed)).toBe(true);
        const closed = candles[firstClosed]!;
        // The bucket that was forming is the one that closed, with the simulator's final values.
        expect(forming.map((c) => c.timeMs)).toContain(closed.timeMs);
        const t = Number(closed.timeMs);
        expect(mismatches([row(closed)], simRows(stack, market, "1m", t, t + MINUTE_MS))).toEqual([]);
      },
      LIVE_TEST_MS,
    );

    it(
      "writes live closed candles to the store with their coverage, so GetCandles of them costs no upstream call",
      async () => {
        const market = "KRW-ICP";
        const writes: LiveWrite[] = [];
        const stopWatching = candleTopicsFor(front.deps).onLiveWritten((w) => {
          if (w.market === market && w.timeframe === "1s" && w.candles > 0) writes.push(w);
        });
        const abort = new AbortController();
        const stream = front.client.streamCandles({ market, timeframe: Timeframe.SECOND_1 }, { signal: abort.signal });
        const reading = errorOf(stream);
        try {
          await vi.waitFor(() => expect(writes.length).toBeGreaterThan(0), { timeout: WAIT_LIMIT_MS, interval: 100 });
        } finally {
          stopWatching();
          abort.abort();
        }
        expect((await reading)?.code).toBe(status.CANCELLED);
        const { verified } = writes[0]!;

        const store = createGrpcClient(StorageService, stack.daemon.address);
        try {
          const { missing, covered } = await store.getMissing({ market, timeframe: Timeframe.SECOND_1, startMs: BigInt(verified.start), endMs: BigInt(verified.end) });
          expect(missing).toEqual([]);
          expect(covered.some((i) => Number(i.startMs) <= verified.start && Number(i.endMs) >= verified.end)).toBe(true);
        } finally {
          store.close();
        }

        // The stack's own gateway: same store; the front's generic service definition cannot encode GetCandles answers.
        const answer = await stack.client.getCandles({ market, timeframe: Timeframe.SECOND_1, startMs: BigInt(verified.start), endMs: BigInt(verified.end) });
        expect(answer.meta!.upstreamCalls).toBe(0);
        expect(answer.meta!.source).toBe(Source.STORE);
        expect(mismatches(answer.candles.map(row), simRows(stack, market, "1s", verified.start, verified.end))).toEqual([]);
      },
      LIVE_TEST_MS,
    );

    it("refuses bad requests with the field and the problem", async () => {
      const now = Date.now();
      const cases: [object, status, RegExp][] = [
        [{ market: "KRW-BTC", timeframe: Timeframe.DAY }, status.INVALID_ARGUMENT, /^timeframe: 1d .*240 minutes/],
        [{ market: "KRW-BTC", timeframe: Timeframe.MONTH }, status.INVALID_ARGUMENT, /^timeframe: 1mo /],
        [{ market: "KRW-BTC" }, status.INVALID_ARGUMENT, /^timeframe: TIMEFRAME_UNSPECIFIED /],
        [{ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, sinceMs: BigInt(now + 3_600_000) }, status.INVALID_ARGUMENT, /^since_ms: .* is in the future/],
        [{ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, sinceMs: 1_000n }, status.INVALID_ARGUMENT, /^since_ms: .* before 2017/],
        [{ market: "KRW-NOPE", timeframe: Timeframe.MINUTE_1 }, status.NOT_FOUND, /^market: KRW-NOPE /],
        [{ market: "btc", timeframe: Timeframe.MINUTE_1 }, status.INVALID_ARGUMENT, /^market: /],
      ];
      for (const [req, code, details] of cases) {
        const error = await errorOf(front.client.streamCandles(req));
        expect(error?.code, JSON.stringify(req, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toBe(code);
        expect(error!.details).toMatch(details);
      }
    });
  });

  describe("upstream reconnects", () => {
    it(
      "leaves buckets touched by a lost window to REST and still ends with the right closed candles",
      async () => {
        const market = "KRW-XRP";
        const tf: Tf = "1s";
        const windows: UpbitWebSocketReconnect[] = [];
        const writes: LiveWrite[] = [];
        const stopWindows = front.hub.onUpstream("reconnect", (e) => windows.push(e));
        const stopWrites = candleTopicsFor(front.deps).onLiveWritten((w) => {
          if (w.market === market && w.timeframe === tf) writes.push(w);
        });
        const since = Date.now() - 20 * SECOND_MS;
        const abort = new AbortController();
        const stream = front.client.streamCandles({ market, timeframe: Timeframe.SECOND_1, sinceMs: BigInt(since) }, { signal: abort.signal });
        let messages: StreamCandlesResponse[];
        await stack.setFaults({ wsDisconnectEveryMs: 3_000 });
        try {
          // Until two reconnects happened and the stream's closed buckets passed the second one.
          messages = await readUntil(stream, abort, (seen) => {
            const last = seen.at(-1)!;
            const reached = last.event.case === "candle" && last.event.value.closed ? Number(last.event.value.timeMs) : last.event.case === "gap" ? Number(last.event.value.endMs) : 0;
            return windows.length >= 2 && reached > windows[1]!.toMs + 2 * SECOND_MS;
          });
        } finally {
          await stack.setFaults({ wsDisconnectEveryMs: null });
          stopWindows();
          stopWrites();
        }

        // Nothing the live writer stored overlaps a bucket a lost window touched.
        const touched = windows.map((w) => ({ start: bucketStart(tf, w.fromMs), end: bucketStart(tf, w.toMs) + SECOND_MS }));
        for (const w of writes) {
          for (const t of touched) expect(w.verified.end <= t.start || w.verified.start >= t.end, `${JSON.stringify(w.verified)} vs ${JSON.stringify(t)}`).toBe(true);
        }

        // The client ends with the simulator's closed candles (the last word per bucket), except where it was told of a gap.
        const gaps = messages.flatMap((m) => (m.event.case === "gap" ? [{ start: Number(m.event.value.startMs), end: Number(m.event.value.endMs) }] : []));
        const inGap = (t: number): boolean => gaps.some((g) => t >= g.start && t < g.end);
        const finalByTime = new Map<number, number[]>();
        for (const c of candlesOf(messages)) if (c.closed) finalByTime.set(Number(c.timeMs), row(c));
        const closedEnd = Math.max(...finalByTime.keys()) + SECOND_MS;
        const expected = simRows(stack, market, tf, bucketCeil(tf, since), closedEnd).filter((r) => !inGap(r[0]!));
        const got = [...finalByTime.entries()].filter(([t]) => !inGap(t)).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
        expect(mismatches(got, expected)).toEqual([]);
        // The buckets the windows touched were among them.
        expect(touched.some((t) => t.end <= closedEnd)).toBe(true);
      },
      LIVE_TEST_MS,
    );
  });
});
