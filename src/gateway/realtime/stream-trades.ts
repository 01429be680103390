/**
 * StreamTrades: every trade of the asked markets, in order, without loss or duplicates across
 * upstream reconnects.
 *
 * - First message per market (`snapshot`): the hub's latest trade, else the first one the
 *   upstream sends, else (after `snapshotWaitMs`) one REST call for the last trade.
 * - After an upstream reconnect each market recovers: live trades are held, the trades since the
 *   last delivered one are fetched over REST by cursor (one fetch shared by all streams asking
 *   the same), merged with the held ones, deduped by sequential id and sent in order before live
 *   trades resume (trade-sequencer.ts). What cannot be fetched becomes an explicit gap notice.
 * - Never conflated: each stream's backlog (queued messages plus held live trades) is bounded by
 *   `maxPending`; a consumer that lets it overflow gets RESOURCE_EXHAUSTED, and its backlog is
 *   dropped at once, so memory stays bounded whatever the consumer does.
 */
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import {
  GapReason,
  type StreamTradesRequest,
  type StreamTradesResponse,
  StreamGapSchema,
  StreamTradesResponseSchema,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { UnavailableError } from "../../shared/errors.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import { StatusError } from "../../shared/grpc/status-mapping.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import type { UpbitWebSocketReconnect } from "../upstream/upbit-websocket-client.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { RealtimeHub } from "./realtime-hub.js";
import { resolveStreamMarkets } from "./stream-request.js";
import { type Backfill, backfillTrades, fetchLatestTrade, MAX_BACKFILL_TRADES, tradePages } from "./trade-backfill.js";
import { type RecoveryOutcome, type TradeEvent, TradeSequencer } from "./trade-sequencer.js";
import { TradeSendQueue } from "./trade-send-queue.js";
import { SharedFetches } from "./trade-shared-fetch.js";
import { untilAborted } from "../../shared/until-aborted.js";

/**
 * Most messages one trade stream may have waiting (queued plus held during a backfill): about
 * 1 MB per stream, minutes of the busiest market's trades. Beyond it the consumer is not keeping
 * up, and waiting longer would only grow memory.
 */
export const MAX_PENDING_TRADES = 10_000;
/**
 * How long a backfill keeps retrying a failing Upbit, ms. Live trades wait behind it; past this
 * a gap notice serves a bot better than more waiting (the gateway's unary calls wait longer).
 */
export const BACKFILL_RETRY_WINDOW_MS = 5_000;
/** How long a market without a known trade waits for the upstream's before asking REST, ms. */
export const SNAPSHOT_WAIT_MS = 1_000;

export interface StreamTradesOptions {
  /** Backlog bound per stream. Default MAX_PENDING_TRADES. */
  maxPending?: number;
  /** Default SNAPSHOT_WAIT_MS. */
  snapshotWaitMs?: number;
  /** Trades one backfill of one market may fetch. Default MAX_BACKFILL_TRADES. */
  maxBackfillTrades?: number;
  /** Told how each stream went once it ended (tests, diagnostics). */
  onEnded?: (stats: TradeStreamStats) => void;
}

export interface TradeStreamStats {
  markets: number;
  priority: Priority;
  /** The backlog bound it ran with. */
  maxPending: number;
  /** The largest backlog it ever held (never above `maxPending`). */
  peakPending: number;
  sent: number;
  /** Trades queued by finished recoveries: backfilled over REST, or live ones held meanwhile. */
  backfilled: number;
  gaps: number;
  /** Backfills started (per market and reconnect). */
  recoveries: number;
  /** How it ended: "cancelled", "overflow", "shutdown" or "error". */
  end: string;
}

/** One backfill per (market, start, priority, reconnect), shared by the streams of one hub. */
const sharedBackfills = new WeakMap<RealtimeHub, SharedFetches<Backfill>>();

export function createStreamTrades(
  deps: GatewayDeps,
  options: StreamTradesOptions = {},
): (req: StreamTradesRequest, send: Send<StreamTradesResponse>, ctx: CallContext) => Promise<void> {
  return async (req, send, ctx) => {
    const priority = priorityFromProto(req.priority);
    const markets = await resolveStreamMarkets(deps, req.markets, priority, ctx.signal);
    await new TradeStream(deps, markets, priority, options).run(send, ctx.signal);
  };
}

class TradeStream {
  private readonly maxPending: number;
  private readonly maxBackfillTrades: number;
  private readonly sequencers = new Map<string, TradeSequencer>();
  private readonly queue: TradeSendQueue<StreamTradesResponse>;
  /** Aborted when the stream ends for any reason: stops REST calls and the sender. */
  private readonly ended = new AbortController();
  private readonly backfills: SharedFetches<Backfill>;
  private held = 0;
  private failure: StatusError | undefined;
  private lastReconnect: UpbitWebSocketReconnect | undefined;
  private awaitingTransport = false;
  private readonly stats: TradeStreamStats;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly markets: readonly string[],
    private readonly priority: Priority,
    private readonly options: StreamTradesOptions,
  ) {
    this.maxPending = options.maxPending ?? MAX_PENDING_TRADES;
    this.maxBackfillTrades = Math.min(options.maxBackfillTrades ?? MAX_BACKFILL_TRADES, this.maxPending);
    this.queue = new TradeSendQueue(deps.hub.now);
    for (const m of markets) this.sequencers.set(m, new TradeSequencer(m));
    let backfills = sharedBackfills.get(deps.hub);
    if (backfills === undefined) sharedBackfills.set(deps.hub, (backfills = new SharedFetches()));
    this.backfills = backfills;
    this.stats = { markets: markets.length, priority, maxPending: this.maxPending, peakPending: 0, sent: 0, backfilled: 0, gaps: 0, recoveries: 0, end: "error" };
  }

  private get pending(): number {
    return this.queue.length + this.held;
  }

  async run(send: Send<StreamTradesResponse>, signal: AbortSignal): Promise<void> {
    const { hub } = this.deps;
    const subscription = hub.subscribe({
      type: "trade",
      markets: this.markets,
      priority: this.priority,
      onUpdate: (u) => this.offer(u.market, (s) => s.offerLive(u.value)),
      state: () => ({ pending: this.pending, conflated: 0, sent: this.stats.sent, awaitingTransport: this.awaitingTransport }),
    });
    // Subscribed first: the reconnect event comes before the trades of the new connection.
    const offReconnect = hub.onUpstream("reconnect", (e) => this.onReconnect(e));
    // Same synchronous step as subscribe: no update can slip in between.
    for (const market of this.markets) {
      const latest = hub.latest("trade", market);
      if (latest !== undefined) this.offer(market, (s) => s.offerSnapshot(latest.value));
    }
    const snapshotTimer = setTimeout(() => this.fetchMissingSnapshots(), this.options.snapshotWaitMs ?? SNAPSHOT_WAIT_MS);
    const stop = AbortSignal.any([signal, hub.closed, this.ended.signal]);
    try {
      for (;;) {
        const message = await this.queue.take(stop);
        this.awaitingTransport = true;
        await untilAborted(send(message), stop);
        this.awaitingTransport = false;
        this.stats.sent++;
      }
    } catch (e) {
      if (this.failure !== undefined) {
        this.stats.end = "overflow";
        throw this.failure;
      }
      if (signal.aborted) {
        this.stats.end = "cancelled";
        return;
      }
      if (hub.closed.aborted) {
        this.stats.end = "shutdown";
        throw new UnavailableError("the gateway is shutting down; subscribe again");
      }
      throw e;
    } finally {
      clearTimeout(snapshotTimer);
      offReconnect();
      subscription.close();
      this.ended.abort();
      this.queue.clear();
      this.options.onEnded?.(this.stats);
    }
  }

  /** Runs one sequencer step and queues what it returns, unless that overflows the backlog. */
  private offer(market: string, step: (s: TradeSequencer) => TradeEvent[]): void {
    if (this.ended.signal.aborted) return;
    const sequencer = this.sequencers.get(market);
    if (sequencer === undefined) return;
    // A step adds at most one message or held trade: refuse it before it would pass the bound.
    if (this.pending >= this.maxPending) return this.overflow(this.pending + 1);
    const heldBefore = sequencer.heldCount;
    const events = step(sequencer);
    this.held += sequencer.heldCount - heldBefore;
    this.enqueue(events);
  }

  private onReconnect(event: UpbitWebSocketReconnect): void {
    if (this.ended.signal.aborted) return;
    this.lastReconnect = event;
    for (const [market, sequencer] of this.sequencers) {
      const sinceMs = sequencer.beginRecovery();
      if (sinceMs !== undefined) this.recover(market, sequencer, sinceMs, event);
    }
  }

  private recover(market: string, sequencer: TradeSequencer, sinceMs: number, event: UpbitWebSocketReconnect): void {
    this.stats.recoveries++;
    const key = `${market}|${sinceMs}|${this.priority}|${event.toMs}`;
    const fetchPage = (signal: AbortSignal) => tradePages(this.deps.upbit, market, { priority: this.priority, signal, retryWindowMs: BACKFILL_RETRY_WINDOW_MS });
    this.backfills
      .run(key, this.ended.signal, (signal) => backfillTrades(fetchPage(signal), sinceMs, this.deps.now(), this.maxBackfillTrades))
      .then(
        (backfill) => {
          if (this.ended.signal.aborted) return;
          const heldBefore = sequencer.heldCount;
          const outcome = sequencer.completeRecovery(backfill.trades, backfill.lostBeforeMs);
          this.stats.backfilled += outcome.events.filter((e) => e.kind === "trade").length;
          this.finishRecovery(market, sequencer, heldBefore, outcome);
        },
        (e: unknown) => {
          if (this.ended.signal.aborted) return;
          this.deps.log.warn("trade backfill failed; the stream gets a gap notice", { market, error: e instanceof Error ? e.message : String(e) });
          const heldBefore = sequencer.heldCount;
          this.finishRecovery(market, sequencer, heldBefore, sequencer.failRecovery(GapReason.UPSTREAM_UNAVAILABLE, event.toMs));
        },
      );
  }

  /** Queues a recovery's outcome; the trades it held are in `outcome.events` now (or dropped as duplicates). */
  private finishRecovery(market: string, sequencer: TradeSequencer, heldBefore: number, outcome: RecoveryOutcome): void {
    this.held -= heldBefore - sequencer.heldCount;
    this.enqueue(outcome.events);
    if (outcome.againFromMs !== undefined && !this.ended.signal.aborted) {
      this.recover(market, sequencer, outcome.againFromMs, this.lastReconnect!);
    }
  }

  private enqueue(events: readonly TradeEvent[]): void {
    if (events.length === 0) return;
    const after = this.pending + events.length;
    if (after > this.maxPending) return this.overflow(after);
    for (const e of events) {
      if (e.kind === "trade") {
        this.queue.push(create(StreamTradesResponseSchema, { event: { case: "trade", value: e.trade }, snapshot: e.snapshot }));
      } else {
        this.stats.gaps++;
        const gap = create(StreamGapSchema, { market: e.market, startMs: BigInt(e.startMs), endMs: BigInt(e.endMs), reason: e.reason });
        this.queue.push(create(StreamTradesResponseSchema, { event: { case: "gap", value: gap } }));
      }
    }
    this.stats.peakPending = Math.max(this.stats.peakPending, this.pending);
  }

  /** Ends the stream: the consumer fell behind by `wouldBe` messages. */
  private overflow(wouldBe: number): void {
    const oldest = this.queue.oldestQueuedAtMs;
    const age = oldest === undefined ? "" : `, the oldest waiting for ${((this.deps.hub.now() - oldest) / 1000).toFixed(1)} s`;
    this.failure = new StatusError(
      status.RESOURCE_EXHAUSTED,
      `the consumer fell behind: ${wouldBe} trades would be waiting to be sent, more than the ${this.maxPending} one stream may hold${age}; read faster or stream fewer markets per call`,
    );
    this.queue.clear();
    this.ended.abort();
  }

  /** REST for the markets whose snapshot neither the hub nor the upstream provided in time. */
  private fetchMissingSnapshots(): void {
    for (const [market, sequencer] of this.sequencers) {
      if (!sequencer.awaitingSnapshot || this.ended.signal.aborted) continue;
      fetchLatestTrade(tradePages(this.deps.upbit, market, { priority: this.priority, signal: this.ended.signal })).then(
        (trade) => {
          if (trade !== undefined) this.offer(market, (s) => s.offerSnapshot(trade));
        },
        (e: unknown) => {
          // The first live trade becomes the snapshot instead.
          if (!this.ended.signal.aborted) this.deps.log.warn("last trade for a stream snapshot failed", { market, error: e instanceof Error ? e.message : String(e) });
        },
      );
    }
  }
}
