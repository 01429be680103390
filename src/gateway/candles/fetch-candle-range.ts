import { type FetchCandleRangeRequest, GapReason } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CandlePart, partLastTime } from "../../shared/candle-batch-wire.js";
import { columnsWithin } from "../../shared/candle-columns.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import { type Interval, subtract } from "../../shared/intervals.js";
import { addBuckets, bucketCeil, bucketCount, bucketStart } from "../../shared/time.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { requireListed } from "../market-catalog.js";
import { MetaRecorder } from "../response-meta.js";
import { isStoreUnavailableError } from "../store-client.js";
import { type CandleWindow, planWindows } from "./candle-windows.js";
import { type RangeBatch, type RangeProgress } from "./range-batch-encoding.js";
import { RangeBatcher } from "./range-batcher.js";
import { parseRangeFetch, type RangeFetch } from "./range-fetch-request.js";
import { InvalidUpstreamCandlesError, upstreamHistoryStart } from "./upstream-window.js";
import type { Flight } from "./window-fetcher.js";

/** Largest read the daemon streams per message (its MAX_READ_BATCH). */
const MAX_STORE_READ_BATCH = 65_536;

/**
 * FetchCandleRange: each market in request order, its candles ascending in batches of
 * `batch_size`, stored stretches read from the daemon as one stream, missing windows fetched
 * ahead (at most `BACKBONE_FETCH_PARALLELISM` windows at a time, at the request's priority) and
 * slotted in at their place. Memory per call is bounded by one batch, the daemon messages in
 * flight and the windows fetched ahead, whatever the range; every send waits for the transport.
 * Encoded by `encodeRangeBatch` (see gateway.ts).
 */
export function createFetchCandleRange(deps: GatewayDeps): (req: FetchCandleRangeRequest, send: Send<RangeBatch>, ctx: CallContext) => Promise<void> {
  return async (req, send, ctx) => {
    const nowMs = deps.now();
    const fetch = parseRangeFetch(req, nowMs);
    const { list, upstreamCalls } = await deps.markets.list(fetch.priority, ctx.signal);
    fetch.markets.forEach((m, i) => requireListed(list, m, `markets[${i}]`));
    const forming = bucketStart(fetch.timeframe, nowMs);
    const closedEnd = Math.max(fetch.start, Math.min(bucketCeil(fetch.timeframe, fetch.end), forming));
    const perMarket = bucketCount(fetch.timeframe, fetch.start, closedEnd);
    const progress: RangeProgress = { bucketsDone: 0, bucketsTotal: perMarket * fetch.markets.length, marketsDone: 0, marketsTotal: fetch.markets.length };
    for (const [i, market] of fetch.markets.entries()) {
      const meta = new MetaRecorder(fetch.priority);
      // The market list's refresh, if this call paid for it, is told once.
      if (i === 0 && upstreamCalls > 0) meta.servedFromUpstream(upstreamCalls);
      const done = i * perMarket;
      const onBatch = (candles: CandlePart) => {
        const last = partLastTime(candles);
        if (last !== undefined) progress.bucketsDone = done + bucketCount(fetch.timeframe, fetch.start, addBuckets(fetch.timeframe, last, 1));
        return send({ market, candles, progress: { ...progress } });
      };
      const run = new MarketRange(deps, fetch, market, { nowMs, forming, closedEnd }, meta, ctx.signal);
      const last = await run.stream(new RangeBatcher(fetch.batchSize, onBatch));
      progress.bucketsDone = done + perMarket;
      progress.marketsDone++;
      await send({ market, candles: last, progress: { ...progress }, meta: meta.build(meta.gaps.every((g) => g.reason === GapReason.STORE_UNAVAILABLE)) });
    }
  };
}

interface Clock {
  nowMs: number;
  forming: number;
  /** Exclusive end of the closed buckets asked for. */
  closedEnd: number;
}

/** A stretch of one market's range, in time order: read from the store, fetched upstream, or skipped (already a gap). */
type Segment = { kind: "store"; start: number; end: number } | { kind: "window"; start: number; end: number; index: number };

/** One market's part of a range fetch. */
class MarketRange {
  private readonly windows: CandleWindow[] = [];
  private readonly flights: (Promise<Flight | undefined> | undefined)[] = [];
  private memoryOnly = false;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly fetch: RangeFetch,
    private readonly market: string,
    private readonly clock: Clock,
    private readonly meta: MetaRecorder,
    private readonly signal: AbortSignal,
  ) {}

  /** Sends every full batch through `batcher`; resolves with what is left for the market's last batch. */
  async stream(batcher: RangeBatcher): Promise<CandlePart> {
    const { start } = this.fetch;
    const { closedEnd, forming } = this.clock;
    if (this.fetch.end > forming) {
      const formingEnd = addBuckets(this.fetch.timeframe, forming, 1);
      this.meta.gap({ start: forming, end: Math.min(this.fetch.end, formingEnd), reason: GapReason.FORMING, detail: "the bucket is still forming" });
    }
    if (start < closedEnd) {
      try {
        for (const segment of await this.plan(start, closedEnd)) await this.send(segment, batcher);
      } finally {
        // Windows fetched ahead that nobody will send: their failures concern nobody.
        for (const f of this.flights) f?.catch(() => undefined);
      }
    }
    this.meta.gaps.sort((a, b) => a.start - b.start);
    return batcher.take();
  }

  private get tf() {
    return this.fetch.timeframe;
  }

  private async plan(start: number, end: number): Promise<Segment[]> {
    let missing: Interval[];
    try {
      missing = await this.deps.candles.missing(this.market, this.tf, start, end, this.signal);
    } catch (e) {
      if (!isStoreUnavailableError(e)) throw e;
      this.storeFailed(start, end);
      missing = [{ start, end }];
    }
    const history = upstreamHistoryStart(this.tf, this.clock.nowMs);
    const skipped: Interval[] = [];
    if (history !== undefined && start < history) {
      const lost = { start, end: Math.min(end, history) };
      for (const m of missing) {
        const gap = { start: Math.max(m.start, lost.start), end: Math.min(m.end, lost.end) };
        if (gap.start >= gap.end) continue;
        skipped.push(gap);
        this.meta.gap({ ...gap, reason: GapReason.OUTSIDE_UPSTREAM_HISTORY, detail: "Upbit keeps 1-second candles for three months only" });
      }
      missing = missing.flatMap((m) => subtract(m, [lost]));
    }
    this.windows.push(...planWindows(this.tf, missing, this.clock.forming));
    this.meta.splits += this.windows.length;
    const segments: Segment[] = [];
    let at = start;
    const storeUpTo = (to: number) => {
      for (const s of subtract({ start: at, end: to }, skipped)) segments.push({ kind: "store", ...s });
      at = Math.max(at, to);
    };
    this.windows.forEach((w, index) => {
      storeUpTo(Math.max(at, Math.min(w.start, end)));
      const wEnd = Math.min(w.end, end);
      if (wEnd > at) segments.push({ kind: "window", start: at, end: wEnd, index });
      at = Math.max(at, wEnd);
    });
    storeUpTo(end);
    return segments;
  }

  private async send(segment: Segment, batcher: RangeBatcher): Promise<void> {
    if (segment.kind === "window") {
      this.fetchAhead(segment.index);
      const flight = await this.flights[segment.index];
      this.flights[segment.index] = undefined;
      if (flight) await batcher.push(columnsWithin(flight.window.candles, segment.start, segment.end));
      return;
    }
    // Windows after this stretch are fetched while it streams.
    this.fetchAhead(this.windows.findIndex((w) => w.start >= segment.end));
    let sentUpTo = segment.start;
    try {
      if (this.memoryOnly) throw new StoreUnavailableMarker();
      const batchSize = Math.min(this.fetch.batchSize, MAX_STORE_READ_BATCH);
      // The first part tops up the batch being filled, so the daemon's parts then fill batches on their own.
      const firstBatchSize = batcher.room < batchSize ? batcher.room : 0;
      const parts = this.deps.store.readEncodedStream(this.market, this.tf, segment.start, segment.end, { signal: this.signal, batchSize, firstBatchSize });
      for await (const part of parts) {
        await batcher.push(part);
        sentUpTo = addBuckets(this.tf, part.lastTimeMs, 1);
      }
      this.meta.servedFromStore();
    } catch (e) {
      if (!(e instanceof StoreUnavailableMarker) && !isStoreUnavailableError(e)) throw e;
      // The daemon went away mid-stretch: the rest of it comes from Upbit, not cached.
      this.storeFailed(sentUpTo, segment.end);
      await this.fromUpstream(sentUpTo, segment.end, batcher);
    }
  }

  /** `[start, end)` fetched window by window, in order, after the store failed. */
  private async fromUpstream(start: number, end: number, batcher: RangeBatcher): Promise<void> {
    const windows = planWindows(this.tf, [{ start, end }], this.clock.forming);
    this.meta.splits += windows.length;
    for (const w of windows) {
      const flight = await this.fetchWindow(w);
      if (flight) await batcher.push(columnsWithin(flight.window.candles, Math.max(start, w.start), Math.min(end, w.end)));
    }
  }

  private storeFailed(start: number, end: number): void {
    if (!this.memoryOnly) this.deps.log.warn("storage daemon unavailable; range fetch served from upstream", { market: this.market });
    this.memoryOnly = true;
    this.meta.gap({ start, end, reason: GapReason.STORE_UNAVAILABLE, detail: "storage daemon unavailable: served from Upbit, not cached" });
  }

  /** Starts the windows from `from` on, up to the parallelism, that are not started yet. */
  private fetchAhead(from: number): void {
    if (from < 0) return;
    const until = Math.min(this.windows.length, from + this.deps.config.fetchParallelism);
    for (let i = from; i < until; i++) {
      if (i in this.flights) continue;
      this.flights[i] = this.fetchWindow(this.windows[i]!);
    }
  }

  private async fetchWindow(w: CandleWindow): Promise<Flight | undefined> {
    const { promise, joined } = this.deps.candles.fetcher.fetch(this.market, this.tf, w, {
      priority: this.fetch.priority,
      signal: this.signal,
      nowMs: this.clock.nowMs,
      memoryOnly: this.memoryOnly,
    });
    try {
      const flight = await promise;
      this.meta.servedFromUpstream(joined ? 0 : 1);
      if (!flight.stored && !this.memoryOnly) this.storeFailed(w.start, w.end);
      return flight;
    } catch (e) {
      if (!(e instanceof InvalidUpstreamCandlesError)) throw e;
      this.meta.gap({ start: w.start, end: w.end, reason: GapReason.INVALID_UPSTREAM_DATA, detail: e.message });
      return undefined;
    }
  }
}

/** The store is already known down for this request. */
class StoreUnavailableMarker extends Error {}
