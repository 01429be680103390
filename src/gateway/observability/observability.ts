import { type Logger, onLogProblem } from "../../shared/logger.js";
import { EventLoopLag } from "../scheduler/event-loop-lag.js";
import { GatewayMetrics } from "./gateway-metrics.js";
import { type EventLoopReading, type ObservedDeps, viewOfDeps } from "./gateway-view.js";
import type { MetricsListen } from "./metrics-listen.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";
import { RecentProblems } from "./recent-problems.js";
import { buildStatusSnapshot, type StatusSnapshot } from "./status-snapshot.js";

export interface ObservabilityOptions {
  /** The gateway's deps (GatewayDeps), or as much of them as is read. */
  deps: ObservedDeps;
  listen: MetricsListen;
  log: Logger;
  /** The metrics the gateway's instrumented service feeds. Default a new set (then no RPC metrics move). */
  metrics?: GatewayMetrics;
  /** The gateway's event-loop measurement. Default one of its own, started and stopped here. */
  eventLoop?: EventLoopReading;
  /** Warn/error lines the status page keeps. Default 20. */
  recentProblems?: number;
  /** How long a reading of the daemon's Stats is reused. Default 5,000 ms (StoreStatsPoller). */
  storeStatsMaxAgeMs?: number;
}

export interface Observability {
  readonly metrics: GatewayMetrics;
  /** `host:port` the metrics server is bound to; undefined when the default port was taken (see MetricsListen.explicit). */
  readonly address: string | undefined;
  /** What `/status.json` answers. */
  status(): Promise<StatusSnapshot>;
  stop(): Promise<void>;
}

/**
 * Metrics, `/status.json` and the status page for a running gateway: attaches the metrics to the
 * gateway's Upbit client, rate limiter and state, collects warn/error log lines, and serves it all
 * on `listen`. Started after the gateway, stopped before it.
 */
export async function startObservability(options: ObservabilityOptions): Promise<Observability> {
  const { deps, listen, log } = options;
  const metrics = options.metrics ?? new GatewayMetrics({ now: deps.now });
  const ownLag = options.eventLoop === undefined ? new EventLoopLag() : undefined;
  ownLag?.start();
  const view = viewOfDeps(deps, options.eventLoop ?? ownLag, { maxAgeMs: options.storeStatsMaxAgeMs, now: deps.now });
  const problems = new RecentProblems(options.recentProblems ?? 20);
  const startedAtMs = deps.now();
  const detach = [
    metrics.watch(view),
    deps.upbit.observe(metrics.onUpstreamEvent),
    deps.upbit.limiter.onGranted(metrics.onGranted),
    onLogProblem((line) => problems.add(line)),
  ];
  const release = () => {
    for (const d of detach) d();
    ownLag?.stop();
  };
  const status = () => buildStatusSnapshot({ metrics, view, problems, startedAtMs, now: deps.now });

  let server: MetricsServer | undefined;
  try {
    server = await startMetricsServer({
      host: listen.host,
      port: listen.port,
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.text() }),
      status,
      log,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (listen.explicit || code !== "EADDRINUSE") {
      release();
      throw e;
    }
    // The default port is best effort: another gateway on this machine has it.
    log.warn("metrics port in use; no metrics or status page (set BACKBONE_METRICS_LISTEN to choose another)", { host: listen.host, port: listen.port });
  }
  if (server !== undefined) log.info("metrics and status page listening", { url: server.url });
  return {
    metrics,
    address: server?.address,
    status,
    stop: async () => {
      release();
      await server?.close();
    },
  };
}
