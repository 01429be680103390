import { create } from "@bufbuild/protobuf";
import { StatsResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import type { GatewayView } from "../../../src/gateway/observability/gateway-view.js";
import type { StoreReading } from "../../../src/gateway/observability/store-stats-poller.js";
import type { RealtimeHubStats } from "../../../src/gateway/realtime/realtime-hub.js";
import type { RateGroupStats } from "../../../src/gateway/upstream/rate-limiter.js";
import type { UpbitRateGroup } from "../../../src/gateway/upstream/upbit-rest-client.js";

export const NOW = 1_773_240_000_250;

/** Hand-set gateway state for the metrics and the snapshot to read; tests change its fields. */
export class FakeView implements GatewayView {
  groups: Array<{ group: UpbitRateGroup; stats: RateGroupStats }> = [
    { group: "candles", stats: { limit: 10, inWindow: 4, queued: { CRITICAL: 0, HIGH: 1, NORMAL: 2, LOW: 3 }, pausedUntilMs: NOW + 500, blockedUntilMs: 0 } },
    { group: "ticker", stats: { limit: 10, inWindow: 1, queued: { CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 }, pausedUntilMs: 0, blockedUntilMs: NOW + 60_000 } },
  ];
  sent = 7;
  hubStats: RealtimeHubStats = {
    upstream: { state: "open", topics: 3, autoOnly: 1, inGrace: 0, disconnects: 1, reconnects: 1 },
    updates: 120,
    subscribers: [
      { type: "ticker", markets: 2, priority: "CRITICAL", pending: 0, conflated: 0, sent: 10, awaitingTransport: false },
      { type: "ticker", markets: 1, priority: "CRITICAL", pending: 2, conflated: 1, sent: 4, awaitingTransport: false },
      { type: "orderbook", markets: 1, priority: "NORMAL", pending: 0, conflated: 0, sent: 1, awaitingTransport: false },
    ],
    maxPending: 2,
    cache: { pending: 0, batches: 5, failedBatches: 1, droppedTrades: 0 },
  };
  hot = 1_234;
  busyBlocksOver5 = 2;
  reading: StoreReading = {
    ok: true,
    atMs: NOW,
    stats: create(StatsResponseSchema, {
      series: [
        { market: "KRW-BTC", rows: 600n },
        { market: "KRW-ETH", rows: 400n },
      ],
      databaseSizeBytes: 12_582_912n,
      walSizeBytes: 4_096n,
      blockSize: 262_144n,
      totalBlocks: 48n,
      usedBlocks: 40n,
      freeBlocks: 8n,
      cache: [
        { kind: "ticker", entries: 3, hits: 9n, misses: 1n, hitRatio: 0.9 },
        { kind: "orderbook", entries: 1, hits: 1n, misses: 1n, hitRatio: 0.5 },
      ],
      cacheHitRatio: 10 / 12,
      lastMaintenanceMs: BigInt(NOW - 60_000),
      lastMaintenanceDetail: "checkpoint",
    }),
  };
  storeReads = 0;

  rateGroups() {
    return this.groups;
  }
  upstreamRequestsSent() {
    return this.sent;
  }
  hub() {
    return this.hubStats;
  }
  hotCandles() {
    return this.hot;
  }
  store() {
    this.storeReads++;
    return Promise.resolve(this.reading);
  }
  eventLoop() {
    return {
      currentMs: 3,
      p99Ms: 12,
      maxMs: 40,
      busyMaxMs: 7,
      busyBlocks: [
        { atLeastMs: 5, count: this.busyBlocksOver5 },
        { atLeastMs: 10, count: 1 },
      ],
    };
  }
}

/** `name{labels} value` samples of a Prometheus text exposition. */
export function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
