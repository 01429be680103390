import { create } from "@bufbuild/protobuf";
import {
  type GetLatestCandlesRequest,
  type GetLatestCandlesResponse,
  GetLatestCandlesResponseSchema,
  type GetMissingRequest,
  type GetMissingResponse,
  GetMissingResponseSchema,
  type GetRealtimeRequest,
  type GetRealtimeResponse,
  GetRealtimeResponseSchema,
  type MaintainRequest,
  type MaintainResponse,
  MaintainResponseSchema,
  type PutRealtimeRequest,
  type PutRealtimeResponse,
  PutRealtimeResponseSchema,
  type ReadCandlesRequest,
  type StatsResponse,
  StatsResponseSchema,
  type WriteCandlesRequest,
  type WriteCandlesResponse,
  WriteCandlesResponseSchema,
} from "../gen/backbone/storage/v1/storage_pb.js";
import { type Interval as WireInterval, IntervalSchema } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { allocateColumns } from "../shared/candle-columns.js";
import { columnsFromWire, columnsToWire } from "../shared/candle-columns-wire.js";
import { InvalidArgumentError } from "../shared/errors.js";
import type { Interval } from "../shared/intervals.js";
import { silentLogger } from "../shared/logger.js";
import { checkMarketCode } from "../shared/market-code.js";
import { MAX_LATEST_CANDLES } from "../shared/storage-limits.js";
import { MAX_TIME_MS } from "../shared/time.js";
import { type Timeframe, timeframeFromProto, timeframeToProto } from "../shared/timeframe.js";
import { type CandleSegment, validateSegment } from "./candle-validation.js";
import type { DuckDBCandleStore } from "./duckdb-candle-store.js";
import type { ReadBatch } from "./read-candles-encoding.js";
import type { RealtimeCache } from "./realtime-cache.js";
import { ON_REQUEST_ONLY, StoreMaintenance } from "./store-maintenance.js";

/** Most markets one realtime read may name per kind. */
export const MAX_REALTIME_MARKETS = 2_000;

/** Converts between the wire and the store/cache, and validates every field on the way in. */
export class StorageService {
  constructor(
    private readonly store: DuckDBCandleStore,
    private readonly cache: RealtimeCache,
    private readonly now: () => number = Date.now,
    /** Without one: no retention, no timers; Maintain still checkpoints and compacts. */
    private readonly maintenance = new StoreMaintenance(store, ON_REQUEST_ONLY, now, silentLogger),
  ) {}

  async writeCandles(req: WriteCandlesRequest): Promise<WriteCandlesResponse> {
    if (req.segments.length === 0) throw new InvalidArgumentError("segments", "[]", "is empty: nothing to write");
    const now = this.now();
    // Every segment is checked before anything is written: a bad one refuses the whole request.
    const segments: CandleSegment[] = req.segments.map((w, i) => {
      const field = `segments[${i}]`;
      const seg: CandleSegment = {
        market: checkMarketCode(w.market, `${field}.market`),
        timeframe: timeframeFromProto(w.timeframe, `${field}.timeframe`),
        candles: columnsFromWire(w.candles, `${field}.candles`),
        verified: w.verified.map((iv, j) => intervalFromWire(iv, `${field}.verified[${j}]`)),
      };
      validateSegment(seg, field, now);
      return seg;
    });
    const result = await this.store.write(segments);
    return create(WriteCandlesResponseSchema, {
      inserted: BigInt(result.inserted),
      updated: BigInt(result.updated),
      unchanged: BigInt(result.unchanged),
    });
  }

  async *readCandles(req: ReadCandlesRequest, signal: AbortSignal): AsyncGenerator<ReadBatch> {
    const { market, timeframe, range } = seriesRange(req);
    const batches = this.store.read(market, timeframe, range.start, range.end, {
      lastN: req.lastN,
      batchSize: req.batchSize,
      firstBatchSize: req.firstBatchSize,
      signal,
    });
    for await (const candles of batches) yield { candles, asCandleBatch: req.asCandleBatch };
  }

  async getLatestCandles(req: GetLatestCandlesRequest): Promise<GetLatestCandlesResponse> {
    if (req.count < 1 || req.count > MAX_LATEST_CANDLES) {
      throw new InvalidArgumentError("count", String(req.count), `must be 1..${MAX_LATEST_CANDLES}; use ReadCandles for more`);
    }
    const { market, timeframe, range } = seriesRange(req);
    let latest = allocateColumns(0);
    // One batch: the batch size is the count.
    for await (const batch of this.store.read(market, timeframe, range.start, range.end, { lastN: req.count, batchSize: req.count })) latest = batch;
    return create(GetLatestCandlesResponseSchema, { candles: columnsToWire(latest), count: latest.time.length });
  }

  getMissing(req: GetMissingRequest): GetMissingResponse {
    const { market, timeframe, range } = seriesRange(req);
    const { missing, covered } = this.store.missing(market, timeframe, range.start, range.end);
    return create(GetMissingResponseSchema, {
      missing: missing.map(intervalToWire),
      covered: covered.map(intervalToWire),
      retentionKeepMs: BigInt(this.maintenance.keepMs(timeframe)),
    });
  }

  putRealtime(req: PutRealtimeRequest): PutRealtimeResponse {
    req.tickers.forEach((t, i) => checkMarketCode(t.market, `tickers[${i}].market`));
    req.orderbooks.forEach((o, i) => checkMarketCode(o.market, `orderbooks[${i}].market`));
    req.trades.forEach((t, i) => checkMarketCode(t.market, `trades[${i}].market`));
    const results = [this.cache.putTickers(req.tickers), this.cache.putOrderbooks(req.orderbooks), this.cache.putTrades(req.trades)];
    return create(PutRealtimeResponseSchema, {
      accepted: results.reduce((n, r) => n + r.accepted, 0),
      ignored: results.reduce((n, r) => n + r.ignored, 0),
    });
  }

  getRealtime(req: GetRealtimeRequest): GetRealtimeResponse {
    const markets = (list: string[], field: string) => {
      if (list.length > MAX_REALTIME_MARKETS) {
        throw new InvalidArgumentError(field, `${list.length} markets`, `is more than ${MAX_REALTIME_MARKETS}`);
      }
      return list.map((m, i) => checkMarketCode(m, `${field}[${i}]`));
    };
    const tickerMarkets = markets(req.tickerMarkets, "ticker_markets");
    const orderbookMarkets = markets(req.orderbookMarkets, "orderbook_markets");
    const tradeMarkets = markets(req.tradeMarkets, "trade_markets");
    const present = <T>(v: T | undefined): v is T => v !== undefined;
    return create(GetRealtimeResponseSchema, {
      tickers: tickerMarkets
        .map((m) => this.cache.getTicker(m))
        .filter(present)
        .map((s) => ({ ticker: s.value, storedAtMs: BigInt(s.storedAtMs) })),
      orderbooks: orderbookMarkets
        .map((m) => this.cache.getOrderbook(m))
        .filter(present)
        .map((s) => ({ orderbook: s.value, storedAtMs: BigInt(s.storedAtMs) })),
      trades: tradeMarkets
        .map((m) => this.cache.getTrades(m, req.tradesLimit))
        .filter(present)
        .map((s) => ({ market: s.market, trades: s.trades, storedAtMs: BigInt(s.storedAtMs) })),
    });
  }

  async stats(): Promise<StatsResponse> {
    const s = await this.store.stats();
    const cache = this.cache.stats();
    const m = this.maintenance.status();
    const hits = cache.reduce((n, k) => n + k.hits, 0);
    const reads = hits + cache.reduce((n, k) => n + k.misses, 0);
    return create(StatsResponseSchema, {
      series: s.series.map((x) => ({
        market: x.market,
        timeframe: timeframeToProto(x.timeframe),
        rows: BigInt(x.rows),
        firstTimeMs: BigInt(x.firstTimeMs),
        lastTimeMs: BigInt(x.lastTimeMs),
        coverageIntervals: x.coverageIntervals,
      })),
      databaseSizeBytes: BigInt(s.databaseSizeBytes),
      blockSize: BigInt(s.blockSize),
      totalBlocks: BigInt(s.totalBlocks),
      usedBlocks: BigInt(s.usedBlocks),
      freeBlocks: BigInt(s.freeBlocks),
      walSizeBytes: BigInt(s.walSizeBytes),
      cache: cache.map((k) => ({ kind: k.kind, entries: k.entries, hits: BigInt(k.hits), misses: BigInt(k.misses), hitRatio: k.hitRatio })),
      cacheHitRatio: reads === 0 ? 0 : hits / reads,
      lastMaintenanceMs: BigInt(m.lastMaintenanceMs),
      lastMaintenanceDetail: m.lastMaintenanceDetail,
      lastCompactionMs: BigInt(m.lastCompactionMs),
      retentionDeletedRows: BigInt(m.retentionDeletedRows),
      retention: m.retention.map((r) => ({ timeframe: timeframeToProto(r.timeframe), keepMs: BigInt(r.keepMs), horizonMs: BigInt(r.horizonMs) })),
    });
  }

  async maintain(req: MaintainRequest): Promise<MaintainResponse> {
    const run = await this.maintenance.run(req.forceCompaction);
    return create(MaintainResponseSchema, {
      detail: run.detail,
      retentionDeletedRows: BigInt(run.retentionDeletedRows),
      compacted: run.compacted,
      checkpointed: run.checkpointed,
    });
  }
}

function timeFromWire(value: bigint, field: string): number {
  if (value < BigInt(-Number.MAX_SAFE_INTEGER) || value > BigInt(MAX_TIME_MS)) {
    throw new InvalidArgumentError(field, String(value), "is outside the representable time range (..9999-12-31)");
  }
  return Number(value);
}

function intervalFromWire(iv: WireInterval, field: string): Interval {
  return { start: timeFromWire(iv.startMs, `${field}.start_ms`), end: timeFromWire(iv.endMs, `${field}.end_ms`) };
}

function intervalToWire(iv: Interval): WireInterval {
  return create(IntervalSchema, { startMs: BigInt(iv.start), endMs: BigInt(iv.end) });
}

function seriesRange(req: { market: string; timeframe: number; startMs: bigint; endMs: bigint }): {
  market: string;
  timeframe: Timeframe;
  range: Interval;
} {
  const market = checkMarketCode(req.market, "market");
  const timeframe = timeframeFromProto(req.timeframe, "timeframe");
  const start = timeFromWire(req.startMs, "start_ms");
  const end = timeFromWire(req.endMs, "end_ms");
  if (start >= end) throw new InvalidArgumentError("start_ms", String(start), `is not before end_ms ${end}`);
  return { market, timeframe, range: { start, end } };
}
