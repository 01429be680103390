import type { Counter, Gauge } from "prom-client";
import type { ProblemLine } from "../../shared/logger.js";
import { PRIORITIES, type Priority } from "../upstream/rate-limiter.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import type { GatewayView } from "./gateway-view.js";
import type { LatencySummary } from "./rolling-latency.js";
import type { StoreReading } from "./store-stats-poller.js";

/** What `/status.json` answers and the status page shows; numbers only, no secrets. */
export interface StatusSnapshot {
  /** When this snapshot was taken, UTC ms. */
  updatedAtMs: number;
  startedAtMs: number;
  rateBudget: RateGroupRow[];
  upstream: {
    /** Requests sent to Upbit since start, retries included. */
    calls: number;
    /** Answers served entirely from the store or the realtime cache. */
    saved: number;
  };
  hitRatios: {
    /** GetCandles answers served entirely from the store. */
    store: HitRatio;
    /** GetTickers / GetOrderbooks / GetTrades answers served entirely from the realtime cache. */
    realtimeCache: HitRatio;
    /** The daemon's own realtime-cache hits / reads; null while the daemon does not answer. */
    daemonRealtimeCache: number | null;
  };
  /** Unary answers per method and source. */
  answers: Array<{ method: string; source: string; count: number }>;
  /** Unary RPC latency over the last minute. */
  latency: Array<{ priority: string } & LatencySummary>;
  streams: {
    active: Array<{ method: string; count: number }>;
    activeTotal: number;
    subscribers: number;
    upstreamTopics: number;
    upstreamState: string;
    updates: number;
  };
  store: StoreRow;
  eventLoop: { lagMs: number; p99Ms: number; maxMs: number; busyMaxMs: number };
  /** Newest first. */
  recentProblems: ProblemLine[];
  problemsTotal: number;
}

export interface RateGroupRow {
  group: string;
  used: number;
  limit: number;
  queued: Record<Priority, number>;
  /** 0 when not paused. */
  pausedUntilMs: number;
  /** 0 when not blocked. */
  blockedUntilMs: number;
  requests: number;
  rateLimited: number;
  blocked: number;
  retries: number;
  errors: number;
}

export interface HitRatio {
  local: number;
  total: number;
  /** local / total; null before any answer. */
  ratio: number | null;
}

export interface StoreRow {
  up: boolean;
  /** When the daemon was last asked, UTC ms; 0 before the first time. */
  checkedAtMs: number;
  /** Why the last Stats call failed, when it did. */
  error?: string;
  /** The rest: the daemon's answer; absent while it does not answer. */
  databaseSizeBytes?: number;
  walSizeBytes?: number;
  totalBlocks?: number;
  freeBlocks?: number;
  candleRows?: number;
  series?: number;
  /** 0 when no maintenance ran since the daemon started. */
  lastMaintenanceMs?: number;
  lastMaintenanceDetail?: string;
  /** Candles in the gateway's hot cache (always known). */
  hotCandles: number;
}

const CANDLE_METHODS = new Set(["GetCandles"]);
const SNAPSHOT_METHODS = new Set(["GetTickers", "GetOrderbooks", "GetTrades"]);

export interface SnapshotSources {
  metrics: GatewayMetrics;
  view: GatewayView;
  problems: { list(): ProblemLine[]; readonly count: number };
  startedAtMs: number;
  now: () => number;
}

export async function buildStatusSnapshot({ metrics, view, problems, startedAtMs, now }: SnapshotSources): Promise<StatusSnapshot> {
  const [requests, rateLimited, blocked, retries, errors, answers, saved, active, reading] = await Promise.all([
    byLabel(metrics.upstreamRequests, "group"),
    byLabel(metrics.upstreamRateLimited, "group"),
    byLabel(metrics.upstreamBlocked, "group"),
    byLabel(metrics.upstreamRetries, "group"),
    byLabel(metrics.upstreamErrors, "group"),
    valuesOf(metrics.rpcAnswers),
    valuesOf(metrics.upstreamCallsSaved),
    valuesOf(metrics.streamsActive),
    view.store(),
  ]);
  const hub = view.hub();
  const answerRows = answers.map((a) => ({ method: String(a.labels.method), source: String(a.labels.source), count: a.value }));
  const loop = view.eventLoop();
  const activeRows = active.filter((a) => a.value > 0).map((a) => ({ method: String(a.labels.method), count: a.value }));
  return {
    updatedAtMs: now(),
    startedAtMs,
    rateBudget: view.rateGroups().map(({ group, stats }) => ({
      group,
      used: stats.inWindow,
      limit: stats.limit,
      queued: stats.queued,
      pausedUntilMs: stats.pausedUntilMs,
      blockedUntilMs: stats.blockedUntilMs,
      requests: requests.get(group) ?? 0,
      rateLimited: rateLimited.get(group) ?? 0,
      blocked: blocked.get(group) ?? 0,
      retries: retries.get(group) ?? 0,
      errors: errors.get(group) ?? 0,
    })),
    upstream: { calls: view.upstreamRequestsSent(), saved: saved.reduce((n, s) => n + s.value, 0) },
    hitRatios: {
      store: hitRatio(answerRows, CANDLE_METHODS, "STORE"),
      realtimeCache: hitRatio(answerRows, SNAPSHOT_METHODS, "REALTIME_CACHE"),
      daemonRealtimeCache: reading.ok ? reading.stats.cacheHitRatio : null,
    },
    answers: answerRows,
    latency: PRIORITIES.map((priority) => ({ priority, ...metrics.latency.summary(priority) })),
    streams: {
      active: activeRows,
      activeTotal: activeRows.reduce((n, a) => n + a.count, 0),
      subscribers: hub.subscribers.length,
      upstreamTopics: hub.upstream.topics,
      upstreamState: hub.upstream.state,
      updates: hub.updates,
    },
    store: storeRow(reading, view.hotCandles()),
    eventLoop: { lagMs: loop?.currentMs ?? 0, p99Ms: loop?.p99Ms ?? 0, maxMs: loop?.maxMs ?? 0, busyMaxMs: loop?.busyMaxMs ?? 0 },
    recentProblems: problems.list(),
    problemsTotal: problems.count,
  };
}

function storeRow(reading: StoreReading, hotCandles: number): StoreRow {
  if (!reading.ok) return { up: false, checkedAtMs: reading.atMs, error: reading.error, hotCandles };
  const row: StoreRow = { up: true, checkedAtMs: reading.atMs, hotCandles };
  const s = reading.stats;
  return {
    ...row,
    databaseSizeBytes: Number(s.databaseSizeBytes),
    walSizeBytes: Number(s.walSizeBytes),
    totalBlocks: Number(s.totalBlocks),
    freeBlocks: Number(s.freeBlocks),
    candleRows: Number(s.series.reduce((n, x) => n + x.rows, 0n)),
    series: s.series.length,
    lastMaintenanceMs: Number(s.lastMaintenanceMs),
    lastMaintenanceDetail: s.lastMaintenanceDetail,
  };
}

function hitRatio(rows: ReadonlyArray<{ method: string; source: string; count: number }>, methods: ReadonlySet<string>, localSource: string): HitRatio {
  let local = 0;
  let total = 0;
  for (const r of rows) {
    if (!methods.has(r.method)) continue;
    total += r.count;
    if (r.source === localSource) local += r.count;
  }
  return { local, total, ratio: total === 0 ? null : local / total };
}

async function valuesOf<L extends string>(metric: Counter<L> | Gauge<L>): Promise<Array<{ labels: Partial<Record<L, string | number>>; value: number }>> {
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

async function byLabel<L extends string>(metric: Counter<L>, label: L): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of await valuesOf(metric)) out.set(String(v.labels[label]), (out.get(String(v.labels[label])) ?? 0) + v.value);
  return out;
}
