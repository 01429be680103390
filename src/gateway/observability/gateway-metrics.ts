import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { StatsResponse } from "../../gen/backbone/storage/v1/storage_pb.js";
import { PRIORITIES, type Priority } from "../upstream/rate-limiter.js";
import type { UpstreamEvent } from "../upstream/upbit-rest-client.js";
import type { GatewayView } from "./gateway-view.js";
import { RollingLatency } from "./rolling-latency.js";

/**
 * The gateway's Prometheus metrics, in a registry of its own (two gateways in one process, as in
 * tests, must not share counters). Counters and histograms are fed by events (RPCs answered,
 * upstream requests, rate-limiter grants); gauges read the gateway's state through a GatewayView
 * when scraped, so they cost nothing between scrapes. Every name and label is listed in the README.
 */

/** The priority an RPC ran at; NONE for an RPC without one (GetStats), UNKNOWN for a number that is no Priority. */
export type RpcPriority = Priority | "NONE" | "UNKNOWN";
export const RPC_PRIORITIES: readonly RpcPriority[] = [...PRIORITIES, "NONE", "UNKNOWN"];

/** ResponseMeta.source of an answer, by its enum name without the prefix. */
export type AnswerSource = "STORE" | "REALTIME_CACHE" | "UPSTREAM" | "MIXED" | "UNSPECIFIED";

export interface RpcObservation {
  /** The RPC's proto name, e.g. `GetCandles`. */
  method: string;
  priority: RpcPriority;
  /** gRPC status name, e.g. `OK`, `INVALID_ARGUMENT`. */
  code: string;
  seconds: number;
  /** ResponseMeta.upstream_calls; 0 for an error. */
  upstreamCalls: number;
  /** ResponseMeta.source; absent for an error or an answer without meta. */
  source?: AnswerSource;
}

export interface StreamEnd {
  priority: RpcPriority;
  code: string;
  seconds: number;
}

/** 0.5 ms (a warm answer from the hot cache) to 10 s (a deep cold fetch), roughly 1-2.5-5 per decade. */
export const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Waiting for a rate-limit slot: none at all, up to a LOW caller's minute in a busy queue. */
export const QUEUE_WAIT_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Answers that cost Upbit nothing. */
const LOCAL_SOURCES: ReadonlySet<AnswerSource> = new Set(["STORE", "REALTIME_CACHE"]);

export interface GatewayMetricsOptions {
  /** Clock of the rolling latency window, ms. Default `Date.now`. */
  now?: () => number;
  /** How far back the status page's p50/p99 look. Default 60,000 ms. */
  latencyWindowMs?: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Recent unary durations per priority, for the status page's p50/p99. */
  readonly latency: RollingLatency;
  private view: GatewayView | undefined;

  readonly rpcDuration: Histogram<"method" | "priority" | "code">;
  readonly rpcAnswers: Counter<"method" | "source">;
  readonly rpcUpstreamCalls: Counter<"method">;
  readonly upstreamCallsSaved: Counter<"method">;
  readonly streamsActive: Gauge<"method">;
  readonly streamsEnded: Counter<"method" | "priority" | "code">;
  readonly upstreamRequests: Counter<"group">;
  readonly upstreamRateLimited: Counter<"group">;
  readonly upstreamBlocked: Counter<"group">;
  readonly upstreamRetries: Counter<"group">;
  readonly upstreamErrors: Counter<"group">;
  readonly queueWait: Histogram<"group" | "priority">;

  constructor(options: GatewayMetricsOptions = {}) {
    this.latency = new RollingLatency({ now: options.now, windowMs: options.latencyWindowMs });
    const registers = [this.registry];
    this.rpcDuration = new Histogram({
      name: "backbone_rpc_duration_seconds",
      help: "Unary RPC time in the gateway, by method, priority as applied and gRPC status",
      labelNames: ["method", "priority", "code"],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.rpcAnswers = new Counter({ name: "backbone_rpc_answers_total", help: "Unary answers by method and ResponseMeta.source (STORE, REALTIME_CACHE, UPSTREAM, MIXED)", labelNames: ["method", "source"], registers });
    this.rpcUpstreamCalls = new Counter({ name: "backbone_rpc_upstream_calls_total", help: "Upbit REST calls unary answers reported making (ResponseMeta.upstream_calls)", labelNames: ["method"], registers });
    this.upstreamCallsSaved = new Counter({ name: "backbone_upstream_calls_saved_total", help: "Unary answers served entirely from the store or the realtime cache, without asking Upbit", labelNames: ["method"], registers });
    this.streamsActive = new Gauge({ name: "backbone_streams_active", help: "Server streams open now, by method", labelNames: ["method"], registers });
    this.streamsEnded = new Counter({ name: "backbone_streams_total", help: "Server streams ended, by method, priority and gRPC status", labelNames: ["method", "priority", "code"], registers });
    this.upstreamRequests = new Counter({ name: "backbone_upstream_requests_total", help: "Requests sent to Upbit REST, retries included, by rate-limit group", labelNames: ["group"], registers });
    this.upstreamRateLimited = new Counter({ name: "backbone_upstream_rate_limited_total", help: "429 replies from Upbit, by group", labelNames: ["group"], registers });
    this.upstreamBlocked = new Counter({ name: "backbone_upstream_blocked_total", help: "418 replies from Upbit (IP blocked), by group", labelNames: ["group"], registers });
    this.upstreamRetries = new Counter({ name: "backbone_upstream_retries_total", help: "Upbit requests tried again after a 429, 5xx or network error, by group", labelNames: ["group"], registers });
    this.upstreamErrors = new Counter({ name: "backbone_upstream_errors_total", help: "Upbit requests without a usable answer (network error, unreadable reply, 5xx), by group", labelNames: ["group"], registers });
    this.queueWait = new Histogram({
      name: "backbone_rate_queue_wait_seconds",
      help: "Time callers waited for a rate-limit slot, by group and priority",
      labelNames: ["group", "priority"],
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    });
    this.definePulledMetrics();
  }

  /** Reads gauges from `view` at every scrape from now on; returns the function that stops it. */
  watch(view: GatewayView): () => void {
    this.view = view;
    return () => {
      if (this.view === view) this.view = undefined;
    };
  }

  /** One unary RPC answered (or failed). */
  observeRpc(o: RpcObservation): void {
    this.rpcDuration.observe({ method: o.method, priority: o.priority, code: o.code }, o.seconds);
    this.latency.observe(o.priority, o.seconds);
    if (o.upstreamCalls > 0) this.rpcUpstreamCalls.inc({ method: o.method }, o.upstreamCalls);
    if (o.source === undefined) return;
    this.rpcAnswers.inc({ method: o.method, source: o.source });
    if (LOCAL_SOURCES.has(o.source) && o.upstreamCalls === 0) this.upstreamCallsSaved.inc({ method: o.method });
  }

  /** A server stream began; call the result once when it ends. */
  streamStarted(method: string): (end: StreamEnd) => void {
    this.streamsActive.inc({ method });
    let open = true;
    return (end) => {
      if (!open) return;
      open = false;
      this.streamsActive.dec({ method });
      this.streamsEnded.inc({ method, priority: end.priority, code: end.code });
    };
  }

  /** For `UpbitRestClient.observe`. */
  readonly onUpstreamEvent = (e: UpstreamEvent): void => {
    const labels = { group: e.group };
    switch (e.kind) {
      case "request":
        return this.upstreamRequests.inc(labels);
      case "429":
        return this.upstreamRateLimited.inc(labels);
      case "418":
        return this.upstreamBlocked.inc(labels);
      case "retry":
        return this.upstreamRetries.inc(labels);
      case "error":
        return this.upstreamErrors.inc(labels);
    }
  };

  /** For `RateLimiter.onGranted`. */
  readonly onGranted = (group: string, priority: Priority, waitedMs: number): void => {
    this.queueWait.observe({ group, priority }, waitedMs / 1_000);
  };

  /** Everything in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private definePulledMetrics(): void {
    const registers = [this.registry];
    // prom-client calls `collect` with the metric as `this`; the view is read through this closure.
    const viewNow = () => this.view;
    const pulled = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, view: GatewayView) => void | Promise<void>) => {
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const view = viewNow();
          if (view === undefined) return;
          // Labelled series that vanished (a group no longer paused, subscribers gone) must not linger.
          if (labelNames.length > 0) this.reset();
          await fill(this, view);
        },
      });
    };
    const fromTotal = (name: string, help: string, read: (view: GatewayView) => number) => {
      let last = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const view = viewNow();
          if (view === undefined) return;
          const total = read(view);
          // A total below the last one means its source was replaced: count from there.
          if (total > last) this.inc(total - last);
          last = total;
        },
      });
    };

    pulled("backbone_rate_budget_used", "Rate-limit slots taken now (in flight or completed within the last window), by Upbit group", ["group"], (g, v) => {
      for (const { group, stats } of v.rateGroups()) g.set({ group }, stats.inWindow);
    });
    pulled("backbone_rate_budget_limit", "Rate-limit slots per window, by Upbit group", ["group"], (g, v) => {
      for (const { group, stats } of v.rateGroups()) g.set({ group }, stats.limit);
    });
    pulled("backbone_rate_queue_depth", "Callers waiting for a rate-limit slot, by group and priority", ["group", "priority"], (g, v) => {
      for (const { group, stats } of v.rateGroups()) for (const priority of PRIORITIES) g.set({ group, priority }, stats.queued[priority]);
    });
    pulled("backbone_rate_group_paused", "1 while the group is paused (Remaining-Req 0 or 429 backoff)", ["group"], (g, v) => {
      for (const { group, stats } of v.rateGroups()) g.set({ group }, stats.pausedUntilMs > 0 ? 1 : 0);
    });
    pulled("backbone_rate_group_blocked", "1 while Upbit blocks the group (418)", ["group"], (g, v) => {
      for (const { group, stats } of v.rateGroups()) g.set({ group }, stats.blockedUntilMs > 0 ? 1 : 0);
    });

    pulled("backbone_realtime_subscribers", "Live-stream subscribers of the realtime hub, by data type and priority", ["type", "priority"], (g, v) => {
      for (const s of v.hub().subscribers) g.inc({ type: s.type, priority: s.priority });
    });
    pulled("backbone_realtime_upstream_topics", "(type, market) pairs subscribed on the upstream WebSocket", [], (g, v) => g.set(v.hub().upstream.topics));
    pulled("backbone_realtime_upstream_connected", "1 while the upstream WebSocket is open", [], (g, v) => g.set(v.hub().upstream.state === "open" ? 1 : 0));
    pulled("backbone_realtime_pending_max", "Largest backlog of updates waiting for one subscriber", [], (g, v) => g.set(v.hub().maxPending));
    fromTotal("backbone_realtime_updates_total", "Updates received from the upstream WebSocket and fanned out", (v) => v.hub().updates);
    fromTotal("backbone_realtime_reconnects_total", "Upstream WebSocket reconnections", (v) => v.hub().upstream.reconnects);
    fromTotal("backbone_realtime_cache_failed_batches_total", "Realtime-cache batches the storage daemon did not take", (v) => v.hub().cache.failedBatches);

    pulled("backbone_hot_candles", "Candles held by the gateway's hot candle cache", [], (g, v) => g.set(v.hotCandles()));

    pulled("backbone_store_up", "1 when the storage daemon answered Stats, 0 when it did not", [], async (g, v) => g.set((await v.store()).ok ? 1 : 0));
    const storeGauge = (name: string, help: string, pick: (s: StatsResponse) => number) =>
      pulled(name, help, [], async (g, v) => {
        const reading = await v.store();
        // While the daemon is down the last value stays; backbone_store_up says it is stale.
        if (reading.ok) g.set(pick(reading.stats));
      });
    storeGauge("backbone_store_database_bytes", "Size of the DuckDB file", (s) => Number(s.databaseSizeBytes));
    storeGauge("backbone_store_wal_bytes", "Size of the DuckDB write-ahead log", (s) => Number(s.walSizeBytes));
    storeGauge("backbone_store_total_blocks", "Blocks in the DuckDB file", (s) => Number(s.totalBlocks));
    storeGauge("backbone_store_free_blocks", "Free blocks in the DuckDB file (compaction returns them)", (s) => Number(s.freeBlocks));
    storeGauge("backbone_store_candle_rows", "Candles stored", (s) => Number(s.series.reduce((n, x) => n + x.rows, 0n)));
    storeGauge("backbone_store_series", "(market, timeframe) series stored", (s) => s.series.length);
    storeGauge("backbone_store_last_maintenance_timestamp_seconds", "When the daemon's last maintenance run finished (0: none since it started)", (s) => Number(s.lastMaintenanceMs) / 1_000);
    pulled("backbone_store_realtime_cache_hit_ratio", "The daemon's realtime-cache hits / reads, by kind (all: every kind)", ["kind"], async (g, v) => {
      const reading = await v.store();
      if (!reading.ok) return;
      g.set({ kind: "all" }, reading.stats.cacheHitRatio);
      for (const c of reading.stats.cache) g.set({ kind: c.kind }, c.hitRatio);
    });
    pulled("backbone_store_realtime_cache_entries", "Entries in the daemon's realtime cache, by kind", ["kind"], async (g, v) => {
      const reading = await v.store();
      if (reading.ok) for (const c of reading.stats.cache) g.set({ kind: c.kind }, c.entries);
    });

    pulled("backbone_event_loop_lag_seconds", "How late the gateway's event loop ran its last timer", [], (g, v) => g.set((v.eventLoop()?.currentMs ?? 0) / 1_000));
    pulled("backbone_event_loop_delay_p99_seconds", "99th percentile of the event loop's delay since start", [], (g, v) => g.set((v.eventLoop()?.p99Ms ?? 0) / 1_000));
    pulled("backbone_event_loop_delay_max_seconds", "Longest event-loop block since start", [], (g, v) => g.set((v.eventLoop()?.maxMs ?? 0) / 1_000));
    pulled("backbone_event_loop_busy_max_seconds", "Longest event-loop block since start spent running (the gateway's own work, not waiting for a CPU)", [], (g, v) =>
      g.set((v.eventLoop()?.busyMaxMs ?? 0) / 1_000),
    );
    const blocksCounted = new Map<number, number>();
    new Counter({
      name: "backbone_event_loop_busy_blocks_total",
      help: "Event-loop blocks spent running that lasted at least at_least_seconds",
      labelNames: ["at_least_seconds"],
      registers,
      collect() {
        for (const { atLeastMs, count } of viewNow()?.eventLoop()?.busyBlocks ?? []) {
          const last = blocksCounted.get(atLeastMs) ?? 0;
          // A count below the last one means the loop monitor was replaced: count from there.
          if (count > last) this.inc({ at_least_seconds: String(atLeastMs / 1_000) }, count - last);
          blocksCounted.set(atLeastMs, count);
        }
      },
    });
  }
}
