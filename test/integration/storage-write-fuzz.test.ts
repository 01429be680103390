import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Client, credentials, status } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { WriteCandlesRequestSchema } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { type CandleRow, columnsFromRows, rowsFromColumns } from "../../src/shared/candle-columns.js";
import { InvalidArgumentError } from "../../src/shared/errors.js";
import { type Interval, normalize } from "../../src/shared/intervals.js";
import { type Timeframe as Tf, timeframeFromProto } from "../../src/shared/timeframe.js";
import { DuckDBCandleStore } from "../../src/storage-daemon/duckdb-candle-store.js";
import { RealtimeCache } from "../../src/storage-daemon/realtime-cache.js";
import { StorageService } from "../../src/storage-daemon/storage-service.js";
import { makeCandles, MINUTE, segment, T0 } from "../support/candles.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";

const NOW = T0 + 60 * 86_400_000; // after every generated day bucket
const MARKETS = ["KRW-A", "KRW-B"];
const TIMEFRAMES = [Timeframe.MINUTE_1, Timeframe.MINUTE_5, Timeframe.DAY];
const CORRUPTIONS = [
  "nan", "infinite", "negative", "low-above-high", "close-above-high", "misaligned", "duplicate",
  "descending", "market", "timeframe", "verified-misaligned", "verified-excludes", "forming",
] as const;
const rowArb = fc.record({
  slot: fc.integer({ min: 0, max: 40 }),
  open: fc.integer({ min: 100, max: 110 }),
  close: fc.integer({ min: 100, max: 110 }),
  spread: fc.integer({ min: 0, max: 3 }),
  volume: fc.double({ min: 0, max: 10, noNaN: true }),
});
const segmentArb = fc.record({
  market: fc.constantFrom(...MARKETS),
  timeframe: fc.constantFrom(...TIMEFRAMES),
  rows: fc.uniqueArray(rowArb, { maxLength: 25, selector: (r) => r.slot }),
  // Verified: none, or from `before` buckets before the first candle to `after` after the last.
  verified: fc.option(fc.record({ before: fc.integer({ min: 0, max: 5 }), after: fc.integer({ min: 1, max: 5 }) })),
  corruption: fc.option(fc.constantFrom(...CORRUPTIONS), { freq: 3 }),
  at: fc.nat(),
});
const requestArb = fc.array(segmentArb, { minLength: 1, maxLength: 3 });

const BUCKET: Record<number, number> = { [Timeframe.MINUTE_1]: MINUTE, [Timeframe.MINUTE_5]: 5 * MINUTE, [Timeframe.DAY]: 86_400_000 };

type SegmentInput = typeof segmentArb extends fc.Arbitrary<infer T> ? T : never;

/** The segment as generated, then (maybe) one corruption that validation must catch. */
function build(seg: SegmentInput) {
  const step = BUCKET[seg.timeframe]!;
  const rows: CandleRow[] = [...seg.rows]
    .sort((a, b) => a.slot - b.slot)
    .map((r) => ({
      time: T0 + r.slot * step,
      open: r.open,
      high: Math.max(r.open, r.close) + r.spread,
      low: Math.min(r.open, r.close) - r.spread,
      close: r.close,
      volume: r.volume,
      quoteVolume: r.volume * 100,
    }));
  const first = rows[0]?.time ?? T0;
  const last = rows[rows.length - 1]?.time ?? T0;
  const verified = seg.verified ? [{ start: first - seg.verified.before * step, end: last + seg.verified.after * step }] : [];
  let { market, timeframe } = seg;
  const r = rows[seg.at % Math.max(1, rows.length)];
  const before = JSON.stringify({ rows, verified, market, timeframe });
  switch (seg.corruption) {
    case "nan": if (r) r.open = NaN; break;
    case "infinite": if (r) r.high = Infinity; break;
    case "negative": if (r) r.volume = -1; break;
    case "low-above-high": if (r) r.low = r.high + 1; break;
    case "close-above-high": if (r) r.close = r.high + 1; break;
    case "misaligned": if (r) r.time += 1; break;
    case "duplicate": if (r && rows.length > 1) rows.push({ ...rows[rows.length - 1]! }); break;
    case "descending": if (rows.length > 1) rows.reverse(); break;
    case "market": market = market.toLowerCase(); break;
    case "timeframe": timeframe = 99 as Timeframe; break;
    case "verified-misaligned": if (verified[0]) verified[0] = { ...verified[0], start: verified[0].start + 7 }; break;
    case "verified-excludes": if (verified[0] && rows.length > 0) verified[0] = { start: first + step, end: last + step }; break;
    case "forming": if (r) r.time = Math.floor(NOW / step) * step; break;
    default: break;
  }
  const corrupted = JSON.stringify({ rows, verified, market, timeframe }) !== before;
  return { rows, verified, market, timeframe, corrupted, wire: segment(market, columnsFromRows(rows), verified, timeframe) };
}

// What the store must hold: accepted requests applied in order, upserting by time.
type Model = Map<string, { rows: Map<number, CandleRow>; coverage: Interval[] }>;

describe("write path under random input", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  it("accepts or refuses whole requests with INVALID_ARGUMENT, and holds exactly what was accepted", async () => {
    const outcomes = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 6 }), async (requests) => {
        const dir = tempDir("mdb-fuzz-");
        dirs.push(dir);
        const store = await DuckDBCandleStore.open(dir);
        const cache = new RealtimeCache();
        const service = new StorageService(store, cache, () => NOW);
        const model: Model = new Map();
        try {
          for (const request of requests) {
            const built = request.map(build);
            const accepted = await service.writeCandles(create(WriteCandlesRequestSchema, { segments: built.map((b) => b.wire) })).then(
              () => true,
              (e: unknown) => {
                if (!(e instanceof InvalidArgumentError)) throw e;
                return false;
              },
            );
            outcomes[accepted ? "accepted" : "refused"]++;
            expect(accepted).toBe(!built.some((b) => b.corrupted));
            if (!accepted) continue;
            built.forEach((seg) => {
              const key = `${seg.market}|${timeframeFromProto(seg.timeframe)}`;
              const entry = model.get(key) ?? { rows: new Map(), coverage: [] };
              for (const r of seg.rows) entry.rows.set(r.time, r);
              entry.coverage = normalize([...entry.coverage, ...seg.verified]);
              model.set(key, entry);
            });
            await checkStoreMatches(store, model);
          }
        } finally {
          cache.close();
          await store.close();
        }
      }),
      { numRuns: 40 },
    );
    // Both paths must have been exercised for the property to mean anything.
    expect(outcomes.accepted).toBeGreaterThan(10);
    expect(outcomes.refused).toBeGreaterThan(10);
  });
});

/** Checked after every request, so that cached tails are exercised across later writes. */
async function checkStoreMatches(store: DuckDBCandleStore, model: Model): Promise<void> {
  for (const [key, entry] of model) {
    const [market, tf] = key.split("|") as [string, Tf];
    const stored: CandleRow[] = [];
    for await (const b of store.read(market, tf, 0, NOW)) stored.push(...rowsFromColumns(b));
    expect(stored).toEqual([...entry.rows.values()].sort((a, b) => a.time - b.time));
    expect(store.missing(market, tf, 0, NOW).covered).toEqual(entry.coverage);
    // "Latest N" is served from an in-memory tail kept in step with every write.
    for (const n of [1, 7, 30]) {
      const last: CandleRow[] = [];
      for await (const b of store.read(market, tf, 0, NOW, { lastN: n })) last.push(...rowsFromColumns(b));
      expect(last).toEqual(stored.slice(-n));
    }
  }
}

describe("daemon under malformed bytes", () => {
  let dir: string;
  let d: DaemonProcess;
  let raw: Client;
  beforeAll(async () => {
    dir = tempDir();
    d = await startDaemon(dir);
    raw = new Client(d.address, credentials.createInsecure());
  });
  afterAll(async () => {
    raw.close();
    await stopDaemon(d);
    removeDir(join(dir));
  });

  it("answers garbage requests with an error status and keeps serving", async () => {
    const identity = (b: Buffer) => b;
    const send = (bytes: Uint8Array) =>
      new Promise<number>((resolve) => {
        raw.makeUnaryRequest("/backbone.storage.v1.StorageService/WriteCandles", identity, identity, Buffer.from(bytes), (err) => resolve(err?.code ?? status.OK));
      });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const code = await send(bytes);
        // Bytes that happen to decode are validated like any request; the rest cannot be parsed.
        expect([status.OK, status.INVALID_ARGUMENT, status.INTERNAL]).toContain(code);
      }),
      { numRuns: 200 },
    );
    const ok = await d.client.writeCandles({ segments: [segment("KRW-ALIVE", makeCandles(T0, 5))] });
    expect(ok.inserted).toBe(5n);
  });
});
