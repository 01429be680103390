/**
 * The realtime hub: one upstream WebSocket shared by every client stream of the gateway.
 *
 * - Subscribes upstream when the first listener asks for a (type, market) and drops it a grace
 *   period after the last one left (UpstreamTopics); all changes go through the WebSocket
 *   client's coalescing `setSubscriptions`, so any number of clients stays inside Upbit's
 *   message limit.
 * - Keeps the latest value per (type, market) for new subscribers' snapshots.
 * - Fans every update out to its listeners synchronously, CRITICAL listeners first. Listeners
 *   must only record the update (e.g. into a conflating queue) and return: a listener is never
 *   awaited, so a slow client cannot hold anybody else up.
 * - Batches every ticker, book and trade into the storage daemon's realtime cache.
 * - Smart routing: markets whose tickers or books unary calls read often are subscribed
 *   automatically (their reads then hit the realtime cache) and dropped when the reads stop.
 *   Their cache entries are re-put every `cacheRefreshMs` while the feed is demonstrably alive,
 *   so a quiet market's unchanged ticker still reads as fresh.
 * - Passes on upstream disconnects and reconnects (with the possibly lost window), for streams
 *   that must report gaps (trades, candles).
 *
 * Built once per gateway (gateway.ts); handlers reach it as `deps.hub`.
 */
import type { Orderbook, Ticker, Trade } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { Logger } from "../../shared/logger.js";
import { UnavailableError } from "../../shared/errors.js";
import type { StoreClient } from "../store-client.js";
import type { Priority } from "../upstream/rate-limiter.js";
import {
  createUpbitWebSocketClient,
  type UpbitWebSocketClient,
  type UpbitWebSocketEvents,
  type UpbitWebSocketState,
  type UpbitWebSocketSubscription,
} from "../upstream/upbit-websocket-client.js";
import { orderbookToProto, tickerToProto, tradeToProto } from "../snapshots/proto-conversions.js";
import { type CacheBatch, RealtimeCacheWriter, type RealtimeCacheWriterStats } from "./realtime-cache-writer.js";
import {
  isCandleType,
  PRIORITY_RANK,
  type RealtimeType,
  type RealtimeUpdate,
  type RealtimeValue,
  topicKey,
  type UnaryReadType,
} from "./realtime-types.js";
import { UnaryReadTracker, type UnaryReadThreshold } from "./unary-read-tracker.js";
import { UpstreamTopics } from "./upstream-topics.js";

export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_CACHE_FLUSH_MS = 100;
export const DEFAULT_CACHE_REFRESH_MS = 500;
/** The feed counts as alive while some frame arrived within this long. */
export const DEFAULT_FEED_ALIVE_MS = 2_000;
export const DEFAULT_AUTO_SUBSCRIBE: UnaryReadThreshold = { reads: 5, windowMs: 10_000 };

export interface RealtimeHubTuning {
  /** How long a (type, market) nobody wants stays subscribed upstream, ms. Default 10 000. */
  graceMs: number;
  /** How often received values are batched into the daemon's realtime cache, ms. Default 100. */
  cacheFlushMs: number;
  /** How often auto-subscribed values are re-put to the cache while the feed is alive, ms. Default 500. */
  cacheRefreshMs: number;
  /** The feed is alive while a frame arrived within this long, ms. Default 2 000. */
  feedAliveMs: number;
  /** Unary reads that make a ticker or book auto-subscribed: more than 5 within 10 s by default. */
  autoSubscribe: UnaryReadThreshold;
}

export interface RealtimeHubOptions extends Partial<RealtimeHubTuning> {
  /** Upbit's WebSocket URL (`config.upstream.wsUrl`); ignored when `client` is given. */
  url: string;
  /** Where received values are cached. */
  store: Pick<StoreClient, "putRealtime">;
  log: Logger;
  /** Clock, UTC ms. Default `Date.now`. */
  now?: () => number;
  /** Replaces the WebSocket client built from `url` (unit tests). */
  client?: UpbitWebSocketClient;
}

/** What a subscriber reports about itself, for `stats()`. */
export interface SubscriberState {
  /** Updates waiting to be sent to the client (conflated: at most one per market). */
  pending: number;
  /** Updates replaced by a newer one before they could be sent. */
  conflated: number;
  sent: number;
  /** The last send is waiting for the client to read (HTTP/2 flow control). */
  awaitingTransport: boolean;
}

export interface SubscribeSpec<T extends RealtimeType> {
  type: T;
  /** Distinct, validated market codes. */
  markets: readonly string[];
  priority: Priority;
  /** Called synchronously for every update, in priority order; must not block or throw. */
  onUpdate(update: RealtimeUpdate<T>): void;
  /** The subscriber's own view of its backlog, for `stats()`. */
  state?: () => SubscriberState;
}

export interface RealtimeSubscription {
  /** Leaves every topic of the subscription (their grace periods start). Idempotent. */
  close(): void;
}

export interface SubscriberStats extends SubscriberState {
  type: RealtimeType;
  markets: number;
  priority: Priority;
}

export interface RealtimeHubStats {
  upstream: {
    state: UpbitWebSocketState;
    /** (type, market) pairs in the upstream subscription. */
    topics: number;
    autoOnly: number;
    inGrace: number;
    disconnects: number;
    reconnects: number;
  };
  /** Updates received from upstream and fanned out (resent duplicates not counted). */
  updates: number;
  subscribers: SubscriberStats[];
  /** Largest `pending` over all subscribers. */
  maxPending: number;
  cache: RealtimeCacheWriterStats;
}

interface Listener {
  readonly rank: number;
  readonly onUpdate: (update: RealtimeUpdate) => void;
}

interface Subscriber {
  readonly type: RealtimeType;
  readonly markets: readonly string[];
  readonly priority: Priority;
  readonly state: (() => SubscriberState) | undefined;
}

/** Upstream connection events: a drop, and data flowing again with the window that may be lost. */
export type UpstreamEvents = Pick<UpbitWebSocketEvents, "disconnect" | "reconnect">;

export class RealtimeHub {
  readonly now: () => number;
  private readonly tuning: RealtimeHubTuning;
  private readonly log: Logger;
  private readonly client: UpbitWebSocketClient;
  private readonly topics: UpstreamTopics;
  private readonly reads: UnaryReadTracker;
  private readonly cache: RealtimeCacheWriter;
  private readonly latestByTopic = new Map<string, RealtimeUpdate>();
  /** Per topic, ordered by priority rank (stable within a rank). */
  private readonly listeners = new Map<string, Listener[]>();
  private readonly subscribers = new Set<Subscriber>();
  /** When each auto-subscribed value was last put to the cache. */
  private readonly cachedAtMs = new Map<string, number>();
  /** When each topic last had a frame, new or a resent equal snapshot. */
  private readonly confirmedAtMs = new Map<string, number>();
  private lastDisconnectAtMs = Number.NEGATIVE_INFINITY;
  private readonly closer = new AbortController();
  private readonly counters = { updates: 0, disconnects: 0, reconnects: 0 };
  private lastFrameAtMs = Number.NEGATIVE_INFINITY;
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RealtimeHubOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.tuning = {
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
      cacheFlushMs: options.cacheFlushMs ?? DEFAULT_CACHE_FLUSH_MS,
      cacheRefreshMs: options.cacheRefreshMs ?? DEFAULT_CACHE_REFRESH_MS,
      feedAliveMs: options.feedAliveMs ?? DEFAULT_FEED_ALIVE_MS,
      autoSubscribe: options.autoSubscribe ?? DEFAULT_AUTO_SUBSCRIBE,
    };
    this.client = options.client ?? createUpbitWebSocketClient({ url: options.url, logger: options.log });
    this.cache = new RealtimeCacheWriter(options.store, options.log);
    this.reads = new UnaryReadTracker(this.tuning.autoSubscribe);
    this.topics = new UpstreamTopics({
      graceMs: this.tuning.graceMs,
      apply: (subscriptions) => this.apply(subscriptions),
      onDropped: (type, market) => {
        const key = topicKey(type, market);
        // Nobody keeps it current any more: a later subscriber must not take it for the latest.
        this.latestByTopic.delete(key);
        this.cachedAtMs.delete(key);
        this.confirmedAtMs.delete(key);
      },
    });
    this.client.on("ticker", (t) => this.receive("ticker", t.market, tickerToProto(t), t.streamType === "SNAPSHOT"));
    this.client.on("orderbook", (b) => {
      // Only native-tick books are subscribed; anything else is not what listeners asked for.
      if (b.level === 0) this.receive("orderbook", b.market, orderbookToProto(b), b.streamType === "SNAPSHOT");
    });
    this.client.on("trade", (t) => this.receive("trade", t.market, tradeToProto(t), t.streamType === "SNAPSHOT"));
    this.client.on("candle", (c) => {
      const type = c.type as RealtimeType;
      if (isCandleType(type)) this.receive(type, c.market, c, c.streamType === "SNAPSHOT");
    });
    this.client.on("disconnect", () => {
      this.counters.disconnects++;
      this.lastDisconnectAtMs = this.now();
    });
    this.client.on("reconnect", () => this.counters.reconnects++);
  }

  /** Aborted once the hub closes (gateway shutdown): streams end when they see it. */
  get closed(): AbortSignal {
    return this.closer.signal;
  }

  /**
   * Listens to `markets` of `type`, subscribing upstream what nobody had asked for yet. Does not
   * replay the latest values: read them with `latest` right after, in the same synchronous step,
   * and no update can fall between the two. Throws UnavailableError once the hub is closed.
   */
  subscribe<T extends RealtimeType>(spec: SubscribeSpec<T>): RealtimeSubscription {
    if (this.closed.aborted) throw new UnavailableError("the gateway is shutting down; subscribe again in a moment");
    const listener: Listener = { rank: PRIORITY_RANK[spec.priority], onUpdate: spec.onUpdate as (u: RealtimeUpdate) => void };
    const subscriber: Subscriber = { type: spec.type, markets: spec.markets, priority: spec.priority, state: spec.state };
    for (const market of spec.markets) {
      this.topics.retain(spec.type, market);
      this.addListener(topicKey(spec.type, market), listener);
    }
    this.subscribers.add(subscriber);
    this.ensureFlushTimer();
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        this.subscribers.delete(subscriber);
        for (const market of spec.markets) {
          this.removeListener(topicKey(spec.type, market), listener);
          this.topics.release(spec.type, market);
        }
      },
    };
  }

  /** The latest value the hub holds for (type, market), if it is subscribed and one arrived. */
  latest<T extends RealtimeType>(type: T, market: string): RealtimeUpdate<T> | undefined {
    return this.latestByTopic.get(topicKey(type, market)) as RealtimeUpdate<T> | undefined;
  }

  /**
   * The latest ticker or book of a subscribed market and since when it is known current: while
   * the feed is open and alive and the value was confirmed on the current connection, now (Upbit
   * sends every change, so silence means none); otherwise when it last arrived. Lets unary reads
   * of streamed markets skip the daemon's cache.
   */
  currentValue<T extends "ticker" | "orderbook">(type: T, market: string): { value: RealtimeValue<T>; asOfMs: number } | undefined {
    const key = topicKey(type, market);
    const latest = this.latestByTopic.get(key) as RealtimeUpdate<T> | undefined;
    if (latest === undefined) return undefined;
    const nowMs = this.now();
    const current = this.feedAlive(nowMs) && (this.confirmedAtMs.get(key) ?? Number.NEGATIVE_INFINITY) > this.lastDisconnectAtMs;
    return { value: latest.value, asOfMs: current ? nowMs : latest.receivedAtMs };
  }

  /** Upstream connection events; returns the remover. */
  onUpstream<E extends keyof UpstreamEvents>(event: E, listener: UpstreamEvents[E]): () => void {
    // UpstreamEvents picks its members from UpbitWebSocketEvents, so E indexes both alike.
    return this.client.on(event, listener as UpbitWebSocketEvents[E]);
  }

  /**
   * Smart routing: unary calls read these markets' tickers or books. A market read often enough
   * (see `autoSubscribe`) is subscribed upstream until its reads stop. Cheap: a few array
   * operations per market.
   */
  noteUnaryRead(type: UnaryReadType, markets: string | readonly string[]): void {
    if (this.closed.aborted) return;
    const nowMs = this.now();
    for (const market of typeof markets === "string" ? [markets] : markets) {
      if (this.reads.note(topicKey(type, market), nowMs)) {
        this.topics.setAuto(type, market, true);
        this.ensureFlushTimer();
      }
    }
    this.ensureSweepTimer();
  }

  /** The subscription set last handed to the WebSocket client. */
  upstreamSubscriptions(): UpbitWebSocketSubscription[] {
    return this.topics.applied();
  }

  /** Listens to batches the daemon's realtime cache accepted (tests, diagnostics). */
  onCacheWritten(listener: (batch: CacheBatch) => void): () => void {
    return this.cache.onWritten(listener);
  }

  stats(): RealtimeHubStats {
    const subscribers: SubscriberStats[] = [];
    let maxPending = 0;
    for (const s of this.subscribers) {
      const state = s.state?.() ?? { pending: 0, conflated: 0, sent: 0, awaitingTransport: false };
      maxPending = Math.max(maxPending, state.pending);
      subscribers.push({ type: s.type, markets: s.markets.length, priority: s.priority, ...state });
    }
    return {
      upstream: { state: this.client.state(), ...this.topics.counts(), disconnects: this.counters.disconnects, reconnects: this.counters.reconnects },
      updates: this.counters.updates,
      subscribers,
      maxPending,
      cache: this.cache.stats(),
    };
  }

  /** Ends every stream (they see `closed`), stops timers and closes the upstream connection. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closer.abort();
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.flushTimer = this.sweepTimer = undefined;
    this.topics.close();
    this.cache.clear();
    this.listeners.clear();
    this.latestByTopic.clear();
    this.confirmedAtMs.clear();
    this.closing = this.client.close();
    return this.closing;
  }

  private apply(subscriptions: UpbitWebSocketSubscription[]): void {
    try {
      this.client.setSubscriptions(subscriptions);
    } catch (e) {
      // Codes are validated before they get here; this would be a bug, not a client error.
      this.log.error("upstream subscription refused", { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private receive<T extends RealtimeType>(type: T, market: string, value: RealtimeValue<T>, upstreamSnapshot: boolean): void {
    const nowMs = this.now();
    this.lastFrameAtMs = nowMs;
    const key = topicKey(type, market);
    // Data for a topic already dropped (the unsubscription was still in flight).
    if (!this.topics.has(type, market)) return;
    this.confirmedAtMs.set(key, nowMs);
    const previous = this.latestByTopic.get(key);
    if (upstreamSnapshot && previous !== undefined && sameState(type, previous.value, value)) return;
    const update: RealtimeUpdate<T> = { type, market, value, upstreamSnapshot, receivedAtMs: nowMs };
    this.latestByTopic.set(key, update);
    this.counters.updates++;
    this.toCache(update);
    const listeners = this.listeners.get(key);
    if (listeners === undefined) return;
    for (const l of listeners) {
      try {
        l.onUpdate(update);
      } catch (e) {
        this.log.error("realtime listener failed", { type, market, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private toCache(update: RealtimeUpdate): void {
    switch (update.type) {
      case "ticker":
        this.cache.offerTicker(update.value as Ticker);
        break;
      case "orderbook":
        this.cache.offerOrderbook(update.value as Orderbook);
        break;
      case "trade":
        this.cache.offerTrade(update.value as Trade);
        break;
      default:
        return;
    }
    if (this.topics.isAuto(update.type, update.market)) this.cachedAtMs.set(topicKey(update.type, update.market), update.receivedAtMs);
  }

  /** Re-puts auto-subscribed values not put lately, while the feed shows it is alive. */
  private refreshAutoTopics(): void {
    const nowMs = this.now();
    if (!this.feedAlive(nowMs)) return;
    for (const { type, market } of this.topics.autoTopics()) {
      const key = topicKey(type, market);
      const latest = this.latestByTopic.get(key);
      if (latest === undefined || nowMs - (this.cachedAtMs.get(key) ?? Number.NEGATIVE_INFINITY) < this.tuning.cacheRefreshMs) continue;
      this.cachedAtMs.set(key, nowMs);
      if (type === "ticker") this.cache.offerTicker(latest.value as Ticker);
      else if (type === "orderbook") this.cache.offerOrderbook(latest.value as Orderbook);
    }
  }

  private feedAlive(nowMs: number): boolean {
    return this.client.state() === "open" && nowMs - this.lastFrameAtMs <= this.tuning.feedAliveMs;
  }

  private ensureFlushTimer(): void {
    if (this.flushTimer !== undefined || this.closed.aborted) return;
    this.flushTimer = setInterval(() => {
      this.refreshAutoTopics();
      this.cache.flush();
      if (this.topics.counts().topics === 0 && this.cache.pending === 0) {
        clearInterval(this.flushTimer);
        this.flushTimer = undefined;
      }
    }, this.tuning.cacheFlushMs);
    this.flushTimer.unref?.();
  }

  private ensureSweepTimer(): void {
    if (this.sweepTimer !== undefined || this.closed.aborted) return;
    // A quarter window: a market is dropped at most 1.25 windows after its last read.
    this.sweepTimer = setInterval(() => {
      for (const key of this.reads.sweep(this.now())) {
        const bar = key.indexOf("|");
        this.topics.setAuto(key.slice(0, bar) as RealtimeType, key.slice(bar + 1), false);
      }
      if (this.reads.size === 0) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = undefined;
      }
    }, this.tuning.autoSubscribe.windowMs / 4);
    this.sweepTimer.unref?.();
  }

  private addListener(key: string, listener: Listener): void {
    const list = this.listeners.get(key);
    if (list === undefined) {
      this.listeners.set(key, [listener]);
      return;
    }
    // After the last of its rank: priority first, then first come first served.
    let at = list.length;
    while (at > 0 && list[at - 1]!.rank > listener.rank) at--;
    list.splice(at, 0, listener);
  }

  private removeListener(key: string, listener: Listener): void {
    const list = this.listeners.get(key);
    if (list === undefined) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.listeners.delete(key);
  }
}

/**
 * Whether a resent SNAPSHOT says nothing new: Upbit resends every topic's snapshot whenever the
 * subscription set changes, which must not reach subscribers as a flood of fake updates.
 */
function sameState(type: RealtimeType, a: unknown, b: unknown): boolean {
  if (type === "ticker" || type === "orderbook") {
    const x = a as RealtimeValue<"ticker" | "orderbook">;
    const y = b as RealtimeValue<"ticker" | "orderbook">;
    return x.timestampMs === y.timestampMs && (type !== "ticker" || (x as RealtimeValue<"ticker">).tradeTimeMs === (y as RealtimeValue<"ticker">).tradeTimeMs);
  }
  if (type === "trade") return (a as RealtimeValue<"trade">).sequentialId === (b as RealtimeValue<"trade">).sequentialId;
  const x = a as RealtimeValue<"candle.1m">;
  const y = b as RealtimeValue<"candle.1m">;
  return x.timeMs === y.timeMs && x.timestampMs === y.timestampMs && x.volume === y.volume;
}
