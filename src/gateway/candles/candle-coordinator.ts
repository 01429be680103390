import pLimit from "p-limit";
import { GapReason } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { type CandleColumns, type CandleRow as Row, columnsFromRows, columnsLength, concatColumns, rowsFromColumns } from "../../shared/candle-columns.js";
import { containsRange, type Interval, normalize, subtract } from "../../shared/intervals.js";
import type { Logger } from "../../shared/logger.js";
import { addBuckets, bucketCeil, bucketStart, DAY_MS, fixedBucketMs } from "../../shared/time.js";
import type { Timeframe } from "../../shared/timeframe.js";
import type { MetaRecorder } from "../response-meta.js";
import type { LowPriorityGate } from "../scheduler/low-priority-gate.js";
import { CoverageCache } from "./coverage-cache.js";
import { DEFAULT_HOT_CANDLES, HotCandleCache } from "./hot-candle-cache.js";
import { isStoreUnavailableError, type StoreClient, StoreUnavailableError } from "../store-client.js";
import type { UpbitRestClient } from "../upstream/upbit-rest-client.js";
import { type CandleQuery, EARLIEST_TIME_MS } from "./candle-request.js";
import type { AnswerCandles } from "./candles-response-encoding.js";
import { type CandleWindow, planWindows } from "./candle-windows.js";
import { type FetchedWindow, InvalidUpstreamCandlesError, upstreamHistoryStart } from "./upstream-window.js";
import { type Flight, WindowFetcher } from "./window-fetcher.js";

/** A candle as the answer carries it (assignable to the generated message's init shape). */
export interface CandleInit {
  timeMs: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  synthetic: boolean;
  closed: boolean;
}

export interface CandleCoordinatorDeps {
  upbit: UpbitRestClient;
  lowGate: LowPriorityGate;
  store: StoreClient;
  now: () => number;
  log: Logger;
  /** Windows one request fetches at once. */
  parallelism: number;
  /** Candles the gateway keeps in memory for warm reads (0: none). */
  hotCandles?: number;
}

/**
 * Plans, fetches and assembles GetCandles answers: covered ranges come from the store; missing
 * ones are cut into grid windows fetched in parallel (single flight across requests), validated
 * and written with the coverage they verify; the answer is read back merged and ascending. When
 * the store is down the same plan runs against what this request fetched, in memory.
 */
/** Clock difference and maintenance run time allowed for at the retention edge. */
const RETENTION_EDGE_MARGIN_MS = 60_000;

export class CandleCoordinator {
  private readonly coverage = new CoverageCache();
  /** Per timeframe, how long the daemon keeps candles (0: forever), as its last GetMissing said. */
  private readonly retentionKeepMs = new Map<Timeframe, number>();
  /** Shared by every request that fetches candle windows, so each window is fetched once. */
  readonly fetcher: WindowFetcher;
  /** Stored candles read lately, answering warm reads without a daemon round trip. */
  readonly hot: HotCandleCache;

  constructor(private readonly deps: CandleCoordinatorDeps) {
    this.fetcher = new WindowFetcher(deps, this.coverage);
    this.hot = new HotCandleCache(deps.hotCandles ?? DEFAULT_HOT_CANDLES);
    deps.store.onWrite((s) => {
      const times = s.candles.time;
      const starts = [...s.verified.map((v) => v.start), ...(times.length > 0 ? [Number(times[0])] : [])];
      const ends = [...s.verified.map((v) => v.end), ...(times.length > 0 ? [Number(times[times.length - 1]) + 1] : [])];
      if (starts.length > 0) this.hot.invalidate(s.market, s.timeframe, Math.min(...starts), Math.max(...ends));
    });
  }

  /** True when the gateway knows `[start, end)` is verified in the store. */
  knowsCovered(market: string, tf: Timeframe, start: number, end: number): boolean {
    return this.remembers(tf, start) && this.coverage.covers(market, tf, start, end);
  }

  /**
   * Whether what the gateway remembers of the store from `start` on still holds: the daemon's
   * retention deletes candles and their coverage older than its keep at any moment, so anything
   * near or past that edge is asked of the daemon again.
   */
  remembers(tf: Timeframe, start: number): boolean {
    const keep = this.retentionKeepMs.get(tf) ?? 0;
    return keep === 0 || start >= this.deps.now() - keep + RETENTION_EDGE_MARGIN_MS + (fixedBucketMs(tf) ?? 31 * DAY_MS);
  }

  /** What of `[start, end)` the store lacks; none of it when the gateway already knows it covered. */
  async missing(market: string, tf: Timeframe, start: number, end: number, signal: AbortSignal): Promise<Interval[]> {
    if (this.knowsCovered(market, tf, start, end)) return [];
    const { missing, covered, retentionKeepMs } = await this.deps.store.missing(market, tf, start, end, { signal });
    this.retentionKeepMs.set(tf, retentionKeepMs);
    this.coverage.learn(market, tf, covered);
    return missing;
  }

  /** The answer's candles, ascending, and whether every bucket of its range is verified. */
  async serve(q: CandleQuery, meta: MetaRecorder, signal: AbortSignal): Promise<{ candles: AnswerCandles; complete: boolean }> {
    const run = new CandleRun(this.deps, this, q, meta, signal);
    let candles: AnswerCandles;
    try {
      candles = await run.execute(false);
    } catch (e) {
      if (!isStoreUnavailableError(e) || signal.aborted) throw e;
      this.deps.log.warn("storage daemon unavailable; serving candles from upstream", { market: q.market, error: e.message });
      candles = await run.execute(true);
    }
    return { candles, complete: run.complete() };
  }
}

/** One request's work; `memoryOnly` once the store has failed it. */
class CandleRun {
  private readonly now: number;
  private readonly forming: number;
  private readonly closedEnd: number;
  private readonly epochBucket: number;
  private readonly fetched = new Map<string, FetchedWindow>();
  private readonly failed: Interval[] = [];
  private readonly limit;
  private memoryOnly = false;

  constructor(
    private readonly deps: CandleCoordinatorDeps,
    private readonly coordinator: CandleCoordinator,
    private readonly q: CandleQuery,
    private readonly meta: MetaRecorder,
    private readonly signal: AbortSignal,
  ) {
    this.now = deps.now();
    this.forming = bucketStart(q.timeframe, this.now);
    // Buckets open before `end` belong to the answer, so a mid-bucket end reaches that bucket's end.
    this.closedEnd = Math.min(bucketCeil(q.timeframe, q.end), this.forming);
    this.epochBucket = bucketStart(q.timeframe, 0);
    this.limit = pLimit(deps.parallelism);
  }

  private get tf(): Timeframe {
    return this.q.timeframe;
  }

  async execute(memoryOnly: boolean): Promise<AnswerCandles> {
    this.memoryOnly = memoryOnly;
    this.failed.length = 0;
    if (memoryOnly) this.meta.forgetStore();
    const q = this.q;
    const wantsForming = q.includeForming && q.end > this.forming;
    let start: number;
    let columns: CandleColumns;
    if (q.form === "count" && !q.fillGaps) {
      ({ start, columns } = await this.newest(q.count - (wantsForming ? 1 : 0)));
    } else {
      // With gap filling, "the newest n" means the newest n buckets, filled or not.
      start = q.form === "range" ? q.start : Math.max(addBuckets(this.tf, this.closedEnd, -(q.count - (wantsForming ? 1 : 0))), this.earliestBucket());
      await this.cover(start, this.closedEnd);
      columns = await this.read(start, this.closedEnd);
    }
    let candles: AnswerCandles = q.fillGaps ? await this.filled(start, columns) : { columns };
    // The count form's answer ends where its newest closed candle does, unless it asked for the forming one.
    if (q.end > this.forming && (q.form === "range" || wantsForming)) {
      const formingEnd = addBuckets(this.tf, this.forming, 1);
      this.meta.gap({ start: this.forming, end: Math.min(q.end, formingEnd), reason: GapReason.FORMING, detail: "the bucket is still forming" });
      if (wantsForming) {
        const forming = await this.formingCandle();
        if (forming) candles = { ...candles, forming };
      }
    }
    if (this.memoryOnly) {
      this.meta.gap({ start, end: this.closedEnd, reason: GapReason.STORE_UNAVAILABLE, detail: "storage daemon unavailable: served from Upbit, not cached" });
    }
    return candles;
  }

  /** The answer is complete when only informational gaps remain. */
  complete(): boolean {
    return this.meta.gaps.every((g) => g.reason === GapReason.STORE_UNAVAILABLE);
  }

  private earliestBucket(): number {
    return bucketStart(this.tf, EARLIEST_TIME_MS);
  }

  /** The `n` newest candles before the closed end, paging further back until found or the market's beginning. */
  private async newest(n: number): Promise<{ start: number; columns: CandleColumns }> {
    if (n <= 0) return { start: this.closedEnd, columns: columnsFromRows([]) };
    const earliest = this.earliestBucket();
    let lo = Math.max(addBuckets(this.tf, this.closedEnd, -n), earliest);
    for (let round = 0; ; round++) {
      await this.cover(lo, this.closedEnd);
      const columns = await this.latest(lo, this.closedEnd, n);
      const found = columnsLength(columns);
      if (found >= n || lo <= earliest || (await this.knownBack(this.epochBucket, lo))) {
        return { start: found > 0 ? Number(columns.time[0]) : lo, columns };
      }
      // An illiquid market: look further back, more boldly each round.
      const step = Math.max(n - found, 200) * 2 ** round;
      lo = Math.max(addBuckets(this.tf, lo, -step), earliest);
    }
  }

  /** Makes `[start, end)` verified: fetches the windows the store (or this request) lacks. */
  private async cover(start: number, end: number): Promise<void> {
    if (end <= start) return;
    let missing = this.memoryOnly ? subtract({ start, end }, this.coveredInMemory()) : await this.missingInStore(start, end);
    const history = upstreamHistoryStart(this.tf, this.now);
    if (history !== undefined && missing.some((m) => m.start < history)) {
      for (const m of missing) {
        if (m.start < history) {
          const gap = { start: m.start, end: Math.min(m.end, history) };
          this.failed.push(gap);
          this.meta.gap({ ...gap, reason: GapReason.OUTSIDE_UPSTREAM_HISTORY, detail: "Upbit keeps 1-second candles for three months only" });
        }
      }
      missing = subtract({ start: history, end }, subtract({ start: history, end }, missing));
    }
    // Whole cells up to the forming bucket, not to this request's end: requests ending anywhere in a
    // cell then plan the same window.
    const windows = planWindows(this.tf, missing, this.forming);
    this.meta.splits += windows.length;
    const flights = await Promise.all(windows.map((w) => this.limit(() => this.fetchShared(w))));
    if (!this.memoryOnly && flights.some((f) => f !== undefined && !f.stored)) {
      throw new StoreUnavailableError("a fetched window could not be written to the store");
    }
  }

  private missingInStore(start: number, end: number): Promise<Interval[]> {
    return this.coordinator.missing(this.q.market, this.tf, start, end, this.signal);
  }

  private get fetcher(): WindowFetcher {
    return this.coordinator.fetcher;
  }

  /** One window, fetched once however many requests need it at the same time. */
  private async fetchShared(w: CandleWindow): Promise<Flight | undefined> {
    const { promise, joined } = this.fetcher.fetch(this.q.market, this.tf, w, { priority: this.q.priority, signal: this.signal, nowMs: this.now, memoryOnly: this.memoryOnly });
    try {
      const flight = await promise;
      this.meta.servedFromUpstream(joined ? 0 : 1);
      this.fetched.set(`${w.start}|${w.end}`, flight.window);
      return flight;
    } catch (e) {
      if (!(e instanceof InvalidUpstreamCandlesError)) throw e;
      this.failed.push({ start: w.start, end: w.end });
      this.meta.gap({ start: w.start, end: w.end, reason: GapReason.INVALID_UPSTREAM_DATA, detail: e.message });
      return undefined;
    }
  }

  private coveredInMemory(): Interval[] {
    return normalize([...this.fetched.values()].map((f) => f.verified));
  }

  private rowsInMemory(start: number, end: number): Row[] {
    const byTime = new Map<number, Row>();
    for (const f of this.fetched.values()) for (const r of rowsFromColumns(f.candles)) if (r.time >= start && r.time < end) byTime.set(r.time, r);
    return [...byTime.values()].sort((a, b) => a.time - b.time);
  }

  private async read(start: number, end: number): Promise<CandleColumns> {
    if (end <= start) return columnsFromRows([]);
    if (this.memoryOnly) return columnsFromRows(this.rowsInMemory(start, end));
    this.meta.servedFromStore();
    const { market } = this.q;
    const remembers = this.coordinator.remembers(this.tf, start);
    const hot = remembers ? this.coordinator.hot.range(market, this.tf, start, end) : undefined;
    if (hot) return hot;
    const rows = concatColumns(await this.deps.store.read(market, this.tf, start, end, { signal: this.signal }));
    if (this.coordinator.knowsCovered(market, this.tf, start, end)) this.coordinator.hot.put(market, this.tf, start, end, rows);
    return rows;
  }

  private async latest(start: number, end: number, n: number): Promise<CandleColumns> {
    if (end <= start) return columnsFromRows([]);
    if (this.memoryOnly) return columnsFromRows(this.rowsInMemory(start, end).slice(-n));
    this.meta.servedFromStore();
    const { market } = this.q;
    const remembers = this.coordinator.remembers(this.tf, start);
    const hot = remembers ? this.coordinator.hot.latest(market, this.tf, start, end, n) : undefined;
    if (hot) return hot;
    const rows = await this.deps.store.latest(market, this.tf, start, end, n, { signal: this.signal });
    // n rows found: every stored row from the oldest of them on is known; fewer: the whole range.
    const known = rows.time.length === n && n > 0 ? Number(rows.time[0]) : start;
    if (this.coordinator.knowsCovered(market, this.tf, known, end)) this.coordinator.hot.put(market, this.tf, known, end, rows);
    return rows;
  }

  /** True when `[start, end)` is verified (known down to the market's beginning when start is the epoch). */
  private async knownBack(start: number, end: number): Promise<boolean> {
    if (end <= start) return true;
    if (this.memoryOnly) return containsRange(this.coveredInMemory(), start, end);
    return (await this.missingInStore(start, end)).length === 0;
  }

  /** The close before `start`, when everything between it and `start` is verified. */
  private async previousClose(start: number): Promise<number | undefined> {
    const before = await this.latest(this.epochBucket, start, 1);
    if (columnsLength(before) === 0) return undefined;
    return (await this.knownBack(addBuckets(this.tf, Number(before.time[0]), 1), start)) ? before.close[0] : undefined;
  }

  /** The candles with every verified empty bucket after the first known close filled flat. */
  private async filled(start: number, columns: CandleColumns): Promise<AnswerCandles> {
    const rows = rowsFromColumns(columns);
    const out: Row[] = [];
    const synthetic: number[] = [];
    let close = rows[0]?.time === start ? undefined : await this.previousClose(start);
    const unverified = normalize(this.failed);
    let i = 0;
    for (let t = start; t < this.closedEnd; t = addBuckets(this.tf, t, 1)) {
      const row = rows[i];
      if (row && row.time === t) {
        out.push(row);
        synthetic.push(0);
        close = row.close;
        i++;
      } else if (close !== undefined && !unverified.some((g) => t >= g.start && t < g.end)) {
        out.push({ time: t, open: close, high: close, low: close, close, volume: 0, quoteVolume: 0 });
        synthetic.push(1);
      }
    }
    return { columns: columnsFromRows(out), synthetic: Uint8Array.from(synthetic) };
  }

  private async formingCandle(): Promise<CandleInit | undefined> {
    const rows = await this.deps.upbit.candles(this.q.market, this.tf, { count: 1 }, { priority: this.q.priority, signal: this.signal });
    this.meta.servedFromUpstream(1);
    const c = rows[0];
    if (!c || c.market !== this.q.market || c.timeMs !== this.forming) return undefined;
    return { timeMs: BigInt(c.timeMs), open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, quoteVolume: c.quoteVolume, synthetic: false, closed: false };
  }
}
