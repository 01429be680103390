import type { RealtimeHub, RealtimeHubStats } from "../realtime/realtime-hub.js";
import type { EventLoopLag } from "../scheduler/event-loop-lag.js";
import type { StoreClient } from "../store-client.js";
import type { RateGroupStats, RateLimiter } from "../upstream/rate-limiter.js";
import { UPBIT_RATE_GROUPS, type UpbitRateGroup, type UpbitRestClient } from "../upstream/upbit-rest-client.js";
import { type StoreReading, StoreStatsPoller, type StoreStatsPollerOptions } from "./store-stats-poller.js";

/** The event loop's delay as the gateway measures it. */
export type EventLoopReading = Pick<EventLoopLag, "currentMs" | "p99Ms" | "maxMs" | "busyMaxMs" | "busyBlocks">;

/**
 * The gateway's current state as metrics and the status page read it at scrape time: a narrow
 * view of GatewayDeps, so both can be tested against a hand-made one.
 */
export interface GatewayView {
  rateGroups(): ReadonlyArray<{ group: UpbitRateGroup; stats: RateGroupStats }>;
  /** Requests sent to Upbit since the client was made, retries included. */
  upstreamRequestsSent(): number;
  hub(): RealtimeHubStats;
  /** Candles held by the gateway's hot candle cache. */
  hotCandles(): number;
  /** The daemon's Stats (cached for a few seconds), or why it did not answer. */
  store(): Promise<StoreReading>;
  eventLoop(): EventLoopReading | undefined;
}

/** What observability reads of GatewayDeps (which has all of it): narrow, so tests can hand it less. */
export interface ObservedDeps {
  readonly upbit: Pick<UpbitRestClient, "requestsSent" | "observe"> & { readonly limiter: Pick<RateLimiter, "stats" | "onGranted"> };
  readonly hub: Pick<RealtimeHub, "stats">;
  readonly store: Pick<StoreClient, "stats">;
  readonly candles: { readonly hot: { readonly size: number } };
  readonly now: () => number;
}

/** The view of a running gateway's deps. */
export function viewOfDeps(
  deps: Omit<ObservedDeps, "now">,
  eventLoop: EventLoopReading | undefined,
  storeStats: StoreStatsPollerOptions = {},
): GatewayView {
  const poller = new StoreStatsPoller(deps.store, storeStats);
  return {
    rateGroups: () => UPBIT_RATE_GROUPS.map((group) => ({ group, stats: deps.upbit.limiter.stats(group) })),
    upstreamRequestsSent: () => deps.upbit.requestsSent,
    hub: () => deps.hub.stats(),
    hotCandles: () => deps.candles.hot.size,
    store: () => poller.read(),
    eventLoop: () => eventLoop,
  };
}
