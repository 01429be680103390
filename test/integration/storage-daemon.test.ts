import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Timeframe, TickerSchema, TradeSchema } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { decodeCandleBatchFields } from "../../src/shared/candle-batch-wire.js";
import { type CandleColumns, columnsFromRows, concatColumns, rowsFromColumns } from "../../src/shared/candle-columns.js";
import { columnsFromWire } from "../../src/shared/candle-columns-wire.js";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient } from "../../src/shared/grpc/client.js";
import { makeCandles, MINUTE, readAll, segment, T0 } from "../support/candles.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";

describe("storage daemon over gRPC", () => {
  let dir: string;
  let d: DaemonProcess;

  beforeAll(async () => {
    dir = tempDir();
    d = await startDaemon(dir);
  });
  afterAll(async () => {
    if (d) await stopDaemon(d);
    removeDir(dir);
  });

  async function rowsOf(market: string): Promise<number> {
    const stats = await d.client.stats({});
    return Number(stats.series.find((s) => s.market === market)?.rows ?? 0n);
  }

  it("round-trips candles exactly, ascending, whatever the order they were written in", async () => {
    const older = makeCandles(T0, 300, MINUTE, 1);
    const newer = makeCandles(T0 + 300 * MINUTE, 300, MINUTE, 2);
    await d.client.writeCandles({ segments: [segment("KRW-RT", newer)] });
    await d.client.writeCandles({ segments: [segment("KRW-RT", older)] });

    const { rows } = await readAll(d.client, { market: "KRW-RT", startMs: BigInt(T0), endMs: BigInt(T0 + 600 * MINUTE) });
    expect(rows).toEqual([...rowsFromColumns(older), ...rowsFromColumns(newer)]);

    const part = await readAll(d.client, { market: "KRW-RT", startMs: BigInt(T0 + 10 * MINUTE), endMs: BigInt(T0 + 20 * MINUTE) });
    expect(part.rows.map((r) => r.time)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (10 + i) * MINUTE));
  });

  it("answers last_n with the most recent candles before end, ascending", async () => {
    // Sparse: a candle every 7 minutes, so the daemon must widen its window to find 50.
    await d.client.writeCandles({ segments: [segment("KRW-LAST", makeCandles(T0, 400, 7 * MINUTE))] });
    const end = T0 + 300 * 7 * MINUTE;
    const { rows } = await readAll(d.client, { market: "KRW-LAST", startMs: 0n, endMs: BigInt(end), lastN: 50 });
    expect(rows.map((r) => r.time)).toEqual(Array.from({ length: 50 }, (_, i) => T0 + (250 + i) * 7 * MINUTE));
    const all = await readAll(d.client, { market: "KRW-LAST", startMs: BigInt(T0), endMs: BigInt(T0 + 5 * 7 * MINUTE), lastN: 50 });
    expect(all.rows).toHaveLength(5);
  });

  it("answers GetLatestCandles in one message, like a last_n read, and refuses a bad count", async () => {
    const end = BigInt(T0 + 300 * 7 * MINUTE);
    const latest = await d.client.getLatestCandles({ market: "KRW-LAST", timeframe: Timeframe.MINUTE_1, endMs: end, count: 50 });
    const { rows } = await readAll(d.client, { market: "KRW-LAST", startMs: 0n, endMs: end, lastN: 50 });
    expect(latest.count).toBe(50);
    expect(rowsFromColumns(columnsFromWire(latest.candles, "candles"))).toEqual(rows);
    const none = await d.client.getLatestCandles({ market: "KRW-NONE", timeframe: Timeframe.MINUTE_1, endMs: end, count: 5 });
    expect(none.count).toBe(0);
    for (const count of [0, 20_001]) {
      const error = await d.client
        .getLatestCandles({ market: "KRW-LAST", timeframe: Timeframe.MINUTE_1, endMs: end, count })
        .then(() => undefined, (e: unknown) => e as { code: number; details: string });
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(new RegExp(`^count: ${count} must be 1\\.\\.20000`));
    }
  });

  it("streams a 1,000,000-candle read in bounded batches", async () => {
    const n = 1_000_000;
    const candles = makeCandles(T0, n);
    for (let from = 0; from < n; from += 200_000) {
      const part = { ...candles };
      for (const k of Object.keys(part) as (keyof typeof part)[]) (part as Record<string, unknown>)[k] = candles[k].subarray(from, from + 200_000);
      await d.client.writeCandles({ segments: [segment("KRW-BIG", part)] });
    }
    let count = 0;
    let messages = 0;
    let maxBatch = 0;
    let last = -1n;
    for await (const m of d.client.readCandles({ market: "KRW-BIG", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(T0 + n * MINUTE), batchSize: 10_000 })) {
      messages++;
      maxBatch = Math.max(maxBatch, m.count);
      count += m.count;
      const first = new BigInt64Array(m.candles!.timeMs.slice().buffer)[0]!;
      expect(first).toBeGreaterThan(last);
      last = new BigInt64Array(m.candles!.timeMs.slice().buffer)[m.count - 1]!;
    }
    expect(count).toBe(n);
    expect(maxBatch).toBeLessThanOrEqual(10_000);
    expect(messages).toBe(100);
  });

  it("reuses a batch's memory only once it is on the wire: a reader that falls behind still gets every candle as written", async () => {
    const n = 100_000;
    const candles = makeCandles(T0, n);
    await d.client.writeCandles({ segments: [segment("KRW-SLOW", candles)] });
    // HTTP/2's default 64 KiB window: the daemon soon waits for this reader, its later batches queued.
    const slow = createGrpcClient(StorageService, d.address, { "grpc-node.flow_control_window": 65_535 });
    try {
      const request = { market: "KRW-SLOW", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(T0 + n * MINUTE), batchSize: 1_000 };
      const behind = slow.readCandles(request)[Symbol.asyncIterator]();
      const first = await behind.next();
      // Meanwhile another read runs through the same batch pool to its end.
      expect((await readAll(d.client, request)).rows).toEqual(rowsFromColumns(candles));
      const parts = [columnsFromWire(first.value!.candles, "candles")];
      for (let m = await behind.next(); !m.done; m = await behind.next()) parts.push(columnsFromWire(m.value.candles, "candles"));
      expect(parts).toHaveLength(100);
      expect(concatColumns(parts)).toEqual(candles);
    } finally {
      slow.close();
    }
  });

  it("sends a read as ready-made CandleBatch fields on request, the first message topping up a reader's partial batch", async () => {
    const n = 2_500;
    const candles = makeCandles(T0, n);
    await d.client.writeCandles({ segments: [segment("KRW-ENC", candles)] });
    const request = { market: "KRW-ENC", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(T0 + n * MINUTE), batchSize: 1_000, asCandleBatch: true };
    for (const firstBatchSize of [0, 300]) {
      const counts: number[] = [];
      const parts: CandleColumns[] = [];
      for await (const m of d.client.readCandles({ ...request, firstBatchSize })) {
        expect(m.candles).toBeUndefined();
        const part = decodeCandleBatchFields({ count: m.count, lastTimeMs: Number(m.lastTimeMs), bytes: m.candleBatch });
        expect(m.lastTimeMs).toBe(part.time[m.count - 1]);
        counts.push(m.count);
        parts.push(part);
      }
      expect(counts).toEqual(firstBatchSize === 0 ? [1_000, 1_000, 500] : [300, 1_000, 1_000, 200]);
      expect(concatColumns(parts)).toEqual(candles);
    }
  });

  it("is idempotent: the same candles again change nothing; changed values replace", async () => {
    const candles = makeCandles(T0, 500);
    const first = await d.client.writeCandles({ segments: [segment("KRW-IDEM", candles, [{ start: T0, end: T0 + 500 * MINUTE }])] });
    expect(first.inserted).toBe(500n);
    const again = await d.client.writeCandles({ segments: [segment("KRW-IDEM", candles, [{ start: T0, end: T0 + 500 * MINUTE }])] });
    expect({ inserted: again.inserted, updated: again.updated, unchanged: again.unchanged }).toEqual({ inserted: 0n, updated: 0n, unchanged: 500n });
    expect(await rowsOf("KRW-IDEM")).toBe(500);

    const rows = rowsFromColumns(makeCandles(T0 + 490 * MINUTE, 20));
    rows[0]!.close = rows[0]!.high; // 490 differs from what is stored; 491..499 too (other seed offsets)
    const overlap = await d.client.writeCandles({ segments: [segment("KRW-IDEM", columnsFromRows(rows))] });
    expect(overlap.inserted).toBe(10n);
    expect(Number(overlap.updated) + Number(overlap.unchanged)).toBe(10);
    expect(await rowsOf("KRW-IDEM")).toBe(510);
    const { rows: stored } = await readAll(d.client, { market: "KRW-IDEM", startMs: BigInt(T0 + 490 * MINUTE), endMs: BigInt(T0 + 491 * MINUTE) });
    expect(stored).toEqual([rows[0]]);
  });

  it("serialises concurrent overlapping writes: no duplicate (market, timeframe, time)", async () => {
    // Ten clients write overlapping windows of the same series at once.
    const writes = Array.from({ length: 10 }, (_, i) =>
      d.client.writeCandles({ segments: [segment("KRW-CONC", makeCandles(T0 + i * 50 * MINUTE, 100))] }),
    );
    const results = await Promise.all(writes);
    expect(results.reduce((n, r) => n + Number(r.inserted), 0)).toBe(550);
    const { rows } = await readAll(d.client, { market: "KRW-CONC", startMs: 0n, endMs: BigInt(T0 + 1000 * MINUTE) });
    expect(new Set(rows.map((r) => r.time)).size).toBe(rows.length);
    expect(rows).toHaveLength(550);
  });

  it("keeps merged coverage and answers what is missing", async () => {
    const market = "KRW-COV";
    await d.client.writeCandles({ segments: [segment(market, makeCandles(T0, 10), [{ start: T0, end: T0 + 10 * MINUTE }])] });
    // Adjacent: merges into one interval. No candles at all: a verified stretch without trades.
    await d.client.writeCandles({ segments: [segment(market, makeCandles(T0, 0), [{ start: T0 + 10 * MINUTE, end: T0 + 20 * MINUTE }])] });
    await d.client.writeCandles({ segments: [segment(market, makeCandles(T0 + 30 * MINUTE, 5), [{ start: T0 + 30 * MINUTE, end: T0 + 40 * MINUTE }])] });

    const answer = await d.client.getMissing({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(T0 - 5 * MINUTE), endMs: BigInt(T0 + 50 * MINUTE) });
    const ms = (l: { startMs: bigint; endMs: bigint }[]) => l.map((i) => [Number(i.startMs - BigInt(T0)) / MINUTE, Number(i.endMs - BigInt(T0)) / MINUTE]);
    expect(ms(answer.covered)).toEqual([[0, 20], [30, 40]]);
    expect(ms(answer.missing)).toEqual([[-5, 0], [20, 30], [40, 50]]);

    // Overlapping coverage merges too.
    await d.client.writeCandles({ segments: [segment(market, makeCandles(T0, 0), [{ start: T0 + 15 * MINUTE, end: T0 + 35 * MINUTE }])] });
    const merged = await d.client.getMissing({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(T0), endMs: BigInt(T0 + 40 * MINUTE) });
    expect(ms(merged.covered)).toEqual([[0, 40]]);
    expect(merged.missing).toEqual([]);
    const stats = await d.client.stats({});
    expect(stats.series.find((s) => s.market === market)?.coverageIntervals).toBe(1);

    // Coverage is per timeframe.
    const other = await d.client.getMissing({ market, timeframe: Timeframe.MINUTE_5, startMs: BigInt(T0), endMs: BigInt(T0 + 40 * MINUTE) });
    expect(other.covered).toEqual([]);
  });

  describe("refuses bad input with INVALID_ARGUMENT naming the field, and writes nothing of the batch", () => {
    const market = "KRW-BAD";
    const good = () => rowsFromColumns(makeCandles(T0, 3));
    const cases: [string, () => Parameters<DaemonProcess["client"]["writeCandles"]>[0], RegExp][] = [
      ["unknown timeframe", () => ({ segments: [segment(market, makeCandles(T0, 3), [], 99 as Timeframe)] }), /segments\[0\]\.timeframe: 99/],
      ["unspecified timeframe", () => ({ segments: [segment(market, makeCandles(T0, 3), [], Timeframe.UNSPECIFIED)] }), /segments\[0\]\.timeframe: TIMEFRAME_UNSPECIFIED/],
      ["malformed market", () => ({ segments: [segment("krw-btc", makeCandles(T0, 3))] }), /segments\[0\]\.market: "krw-btc"/],
      ["market without quote", () => ({ segments: [segment("BTC", makeCandles(T0, 3))] }), /segments\[0\]\.market: "BTC"/],
      ["NaN price", () => bad((r) => (r[1]!.open = NaN)), /candles\.open\[1\]: NaN/],
      ["infinite price", () => bad((r) => (r[2]!.high = Infinity)), /candles\.high\[2\]: Infinity/],
      ["negative price", () => bad((r) => (r[0]!.low = -5)), /candles\.low\[0\]: -5/],
      ["negative volume", () => bad((r) => (r[0]!.volume = -1)), /candles\.volume\[0\]: -1/],
      ["low above high", () => bad((r) => ((r[1]!.low = 2000), (r[1]!.high = 1999))), /candles\.low\[1\]: 2000 is above high 1999/],
      ["close outside low..high", () => bad((r) => (r[1]!.close = r[1]!.high + 1)), /candles\.close\[1\]/],
      ["unaligned time", () => bad((r) => (r[2]!.time += 1)), /candles\.time_ms\[2\]: \d+ is not aligned/],
      ["duplicate time", () => bad((r) => (r[1]!.time = r[0]!.time)), /candles\.time_ms\[1\]: \d+ is a duplicate/],
      ["descending time", () => bad((r) => ([r[0]!.time, r[2]!.time] = [r[2]!.time, r[0]!.time])), /candles\.time_ms\[1\]/],
      ["forming bucket", () => ({ segments: [segment(market, makeCandles(Math.floor(Date.now() / MINUTE) * MINUTE, 1))] }), /still forming/],
      ["candle outside its verified interval", () => ({ segments: [segment(market, makeCandles(T0, 3), [{ start: T0, end: T0 + 2 * MINUTE }])] }), /candles\.time_ms\[2\].*outside every interval/],
      ["unaligned verified interval", () => ({ segments: [segment(market, makeCandles(T0, 3), [{ start: T0 + 1, end: T0 + 3 * MINUTE }])] }), /verified\[0\]\.start_ms/],
      ["empty verified interval", () => ({ segments: [segment(market, makeCandles(T0, 0), [{ start: T0 + MINUTE, end: T0 }])] }), /verified\[0\]: .* is empty/],
      ["verified interval into the forming bucket", () => ({ segments: [segment(market, makeCandles(T0, 0), [{ start: T0, end: Math.ceil(Date.now() / MINUTE + 1) * MINUTE }])] }), /verified\[0\]\.end_ms.*still forming/],
      ["columns of different lengths", () => {
        const s = segment(market, makeCandles(T0, 3));
        s.candles = { ...s.candles!, low: new Uint8Array(16) };
        return { segments: [s] };
      }, /segments\[0\]\.candles\.low: 16 bytes/],
      ["a bad segment after a good one", () => ({ segments: [segment(market, makeCandles(T0, 3)), segment("KRW-BAD2", makeCandles(T0, 3), [], 0)] }), /segments\[1\]\.timeframe/],
      ["no segments", () => ({ segments: [] }), /segments: \[\] is empty/],
    ];
    function bad(edit: (rows: ReturnType<typeof good>) => void) {
      const rows = good();
      edit(rows);
      return { segments: [segment(market, columnsFromRows(rows), [{ start: T0, end: T0 + 3 * MINUTE }])] };
    }

    it.each(cases)("%s", async (_name, request, message) => {
      const error = await d.client.writeCandles(request()).then(() => undefined, (e: unknown) => e as { code: number; details: string });
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(message);
      expect(await rowsOf(market)).toBe(0);
      const coverage = await d.client.getMissing({ market, timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: BigInt(T0 + 10 * MINUTE) });
      expect(coverage.covered).toEqual([]);
    });

    it.each([
      ["start >= end", { market: "KRW-X", timeframe: Timeframe.MINUTE_1, startMs: 10n, endMs: 10n }, /start_ms: 10 is not before end_ms 10/],
      ["malformed market", { market: "KRW_X", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: 10n }, /market: "KRW_X"/],
      ["unknown timeframe", { market: "KRW-X", timeframe: 42 as Timeframe, startMs: 0n, endMs: 10n }, /timeframe: 42/],
      ["time beyond year 9999", { market: "KRW-X", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: 2n ** 62n }, /end_ms: \d+ is outside/],
    ])("reads and coverage queries: %s", async (_name, req, message) => {
      for (const call of [() => d.client.getMissing(req), () => readAll(d.client, req)]) {
        const error = await call().then(() => undefined, (e: unknown) => e as { code: number; details: string });
        expect(error?.code).toBe(status.INVALID_ARGUMENT);
        expect(error?.details).toMatch(message);
      }
    });

    it("realtime values with a malformed market", async () => {
      const error = await d.client
        .putRealtime({ tickers: [create(TickerSchema, { market: "KRW-OK" }), create(TickerSchema, { market: "nope" })] })
        .then(() => undefined, (e: unknown) => e as { code: number; details: string });
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(/tickers\[1\]\.market: "nope"/);
      const got = await d.client.getRealtime({ tickerMarkets: ["KRW-OK"] });
      expect(got.tickers).toEqual([]);
    });
  });

  it("leaves nothing behind per call: no listener leak warning after many calls", async () => {
    for (let i = 0; i < 30; i++) await d.client.stats({});
    await Promise.all(Array.from({ length: 30 }, () => d.client.getMissing({ market: "KRW-LEAK", timeframe: Timeframe.MINUTE_1, startMs: 0n, endMs: 1n })));
    expect(d.stderr()).not.toMatch(/MaxListenersExceeded/);
  });

  it("caches realtime values, latest wins per market", async () => {
    const tickerStats = async () => (await d.client.stats({})).cache.find((k) => k.kind === "ticker")!;
    const before = await tickerStats();
    await d.client.putRealtime({
      tickers: [create(TickerSchema, { market: "KRW-RTC", tradePrice: 10, timestampMs: 2000n })],
      trades: [1n, 3n, 2n].map((id) => create(TradeSchema, { market: "KRW-RTC", sequentialId: id, tradeTimeMs: 1000n * id })),
    });
    const older = await d.client.putRealtime({ tickers: [create(TickerSchema, { market: "KRW-RTC", tradePrice: 9, timestampMs: 1000n })] });
    expect(older.ignored).toBe(1);
    const got = await d.client.getRealtime({ tickerMarkets: ["KRW-RTC", "KRW-NONE"], tradeMarkets: ["KRW-RTC"], tradesLimit: 2 });
    expect(got.tickers.map((t) => t.ticker?.tradePrice)).toEqual([10]);
    expect(got.trades[0]?.trades.map((t) => t.sequentialId)).toEqual([3n, 2n]);
    const after = await tickerStats();
    expect(after.entries).toBe(before.entries + 1);
    expect([after.hits - before.hits, after.misses - before.misses]).toEqual([1n, 1n]);
  });
});
