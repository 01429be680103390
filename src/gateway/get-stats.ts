import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type GetStatsRequest, type GetStatsResponse, GetStatsResponseSchema, type StoreStatsSchema } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../shared/grpc/handlers.js";
import type { GatewayDeps } from "./gateway-deps.js";
import type { EventLoopLag } from "./scheduler/event-loop-lag.js";
import { isStoreUnavailableError } from "./store-client.js";

export interface GatewayActivity {
  readonly startedAtMs: number;
  /** Client streams open now. */
  activeStreams(): number;
  readonly eventLoop: Pick<EventLoopLag, "maxMs" | "p99Ms" | "busyMaxMs" | "busyBlocks">;
}

/** GetStats: the daemon's store and cache figures, and the gateway's own; answers while the daemon is down. */
export function createGetStats(deps: GatewayDeps, activity: GatewayActivity): (req: GetStatsRequest, ctx: CallContext) => Promise<GetStatsResponse> {
  return async (req, ctx) => {
    const gateway = {
      startedAtMs: BigInt(activity.startedAtMs),
      serverTimeMs: BigInt(deps.now()),
      activeStreams: activity.activeStreams(),
      upstreamSubscriptions: deps.hub.upstreamSubscriptions().reduce((n, s) => n + s.codes.length, 0),
      upstreamCalls: BigInt(deps.upbit.requestsSent),
      eventLoopDelayMaxMs: activity.eventLoop.maxMs,
      eventLoopDelayP99Ms: activity.eventLoop.p99Ms,
      eventLoopBusyMaxMs: activity.eventLoop.busyMaxMs,
      eventLoopBusyBlocks: activity.eventLoop.busyBlocks.map((b) => ({ atLeastMs: b.atLeastMs, count: BigInt(b.count) })),
    };
    return create(GetStatsResponseSchema, { store: await storeStats(deps, req.includeSeries, ctx.signal), gateway });
  };
}

async function storeStats(deps: GatewayDeps, includeSeries: boolean, signal: AbortSignal): Promise<MessageInitShape<typeof StoreStatsSchema>> {
  let s;
  try {
    s = await deps.store.stats({ signal });
  } catch (e) {
    if (isStoreUnavailableError(e)) return { available: false };
    throw e;
  }
  return {
    available: true,
    databaseSizeBytes: s.databaseSizeBytes,
    walSizeBytes: s.walSizeBytes,
    blockSize: s.blockSize,
    totalBlocks: s.totalBlocks,
    freeBlocks: s.freeBlocks,
    candleRows: s.series.reduce((n, x) => n + x.rows, 0n),
    seriesCount: s.series.length,
    series: includeSeries ? s.series.map(({ market, timeframe, rows, firstTimeMs, lastTimeMs, coverageIntervals }) => ({ market, timeframe, rows, firstTimeMs, lastTimeMs, coverageIntervals })) : [],
    cache: s.cache.map(({ kind, entries, hits, misses, hitRatio }) => ({ kind, entries, hits, misses, hitRatio })),
    cacheHitRatio: s.cacheHitRatio,
    lastMaintenanceMs: s.lastMaintenanceMs,
    lastMaintenanceDetail: s.lastMaintenanceDetail,
    lastCompactionMs: s.lastCompactionMs,
    retentionDeletedRows: s.retentionDeletedRows,
  };
}
