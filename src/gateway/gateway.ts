import { Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import { MarketDataService, StreamOrderbooksResponseSchema, StreamTickersResponseSchema } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { grpcServiceDefinition } from "../shared/grpc/service-definition.js";
import type { Logger } from "../shared/logger.js";
import { ScratchBuffer } from "../shared/scratch-buffer.js";
import { CandleCoordinator } from "./candles/candle-coordinator.js";
import { type CandlesAnswer, encodeCandlesAnswer } from "./candles/candles-response-encoding.js";
import { encodeRangeBatch, type RangeBatch } from "./candles/range-batch-encoding.js";
import type { GatewayConfig } from "./config.js";
import type { GatewayDeps } from "./gateway-deps.js";
import { addHealthAndReflection } from "./health-and-reflection.js";
import { MarketCatalog } from "./market-catalog.js";
import { marketDataService } from "./market-data-service.js";
import { RealtimeHub, type RealtimeHubTuning } from "./realtime/realtime-hub.js";
import { encodeOnce } from "./realtime/shared-messages.js";
import { StoreClient } from "./store-client.js";
import { GatewayMetrics } from "./observability/gateway-metrics.js";
import { instrumentService } from "./observability/instrument-service.js";
import { EventLoopLag } from "./scheduler/event-loop-lag.js";
import { LowPriorityGate } from "./scheduler/low-priority-gate.js";
import { UPBIT_RATE_GROUPS, UpbitRestClient } from "./upstream/upbit-rest-client.js";

export interface Gateway {
  /** Listens; resolves with the bound address (the real port when 0 was asked). */
  start(): Promise<string>;
  /** Refuses new calls, lets calls in flight finish for up to `graceMs` (default 10 s), then cancels them. */
  stop(graceMs?: number): Promise<void>;
  /** What the handlers use; exposed for tests and benchmarks. */
  readonly deps: GatewayDeps;
  /** What the instrumented service feeds; main.ts serves it (startObservability). */
  readonly metrics: GatewayMetrics;
  /** The event loop's delay: LOW work backs off on it, metrics report it. */
  readonly eventLoop: EventLoopLag;
}

/** How long calls in flight may take to finish on shutdown. */
const STOP_GRACE_MS = 10_000;

export interface GatewayOptions {
  log: Logger;
  now?: () => number;
  /** Replaces the Upbit client built from `config.upstream` (tests pass tuned limiters). */
  upbit?: UpbitRestClient;
  /** Realtime hub tuning (grace period, auto-subscription threshold, ...); defaults otherwise. */
  realtime?: Partial<RealtimeHubTuning>;
}

/** The public service's wire definition, with the hand-written encoders of its hottest answers. */
export function publicServiceDefinition(): ServiceDefinition {
  const candlesOut = new ScratchBuffer();
  const rangeBatchOut = new ScratchBuffer();
  return grpcServiceDefinition(MarketDataService, {
    getCandles: (answer: CandlesAnswer) => encodeCandlesAnswer(answer, candlesOut),
    fetchCandleRange: (batch: RangeBatch) => encodeRangeBatch(batch, rangeBatchOut),
    streamTickers: encodeOnce(StreamTickersResponseSchema),
    streamOrderbooks: encodeOnce(StreamOrderbooksResponseSchema),
  });
}

/** TLS when `config.tls` holds a certificate and key (no client certificates asked), plaintext otherwise. */
function serverCredentials(config: GatewayConfig): ServerCredentials {
  if (config.tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(null, [{ cert_chain: config.tls.certChain, private_key: config.tls.privateKey }], false);
}

/** Serving beyond loopback is allowed, but plaintext or keyless there deserves a line in the log. */
function warnIfExposed(config: GatewayConfig, log: Logger): void {
  if (!config.remote) return;
  if (config.tls === undefined) log.warn("gateway serves beyond loopback without TLS: calls and API keys travel in plaintext unless a proxy in front adds TLS", { listen: config.listen });
  if (config.apiKeys === undefined) log.warn("gateway serves beyond loopback without API keys: anyone who reaches it may call at any priority", { listen: config.listen });
}

export function createGateway(config: GatewayConfig, options: GatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const upbit = options.upbit ?? new UpbitRestClient({ baseUrl: config.upstream.restUrl, retryWindowMs: config.upstreamRetryWindowMs, logger: options.log });
  const store = new StoreClient(config.storageAddress);
  const lag = new EventLoopLag();
  const lowGate = new LowPriorityGate({
    higherPriorityWaiting: () =>
      UPBIT_RATE_GROUPS.some((group) => {
        const queued = upbit.limiter.stats(group).queued;
        return queued.CRITICAL + queued.HIGH + queued.NORMAL > 0;
      }),
    eventLoopLagMs: () => lag.currentMs,
  });
  const hub = new RealtimeHub({ url: config.upstream.wsUrl, store, log: options.log, now, ...config.realtime, ...options.realtime });
  const candles = new CandleCoordinator({ upbit, lowGate, store, now, log: options.log, parallelism: config.fetchParallelism });
  const deps: GatewayDeps = { config, upbit, store, markets: new MarketCatalog(upbit, now), candles, lowGate, hub, now, log: options.log };
  const shutdown = new AbortController();
  const server = new Server({ "grpc.max_receive_message_length": config.maxRequestBytes });
  const metrics = new GatewayMetrics({ now });
  server.addService(publicServiceDefinition(), instrumentService(marketDataService(deps, shutdown.signal, lag), { metrics, log: options.log }));
  const health = addHealthAndReflection(server);
  return {
    deps,
    metrics,
    eventLoop: lag,
    start: () =>
      new Promise((resolve, reject) => {
        server.bindAsync(config.listen, serverCredentials(config), (err, port) => {
          if (err) return reject(err);
          const address = config.listen.replace(/:\d+$/, `:${port}`);
          lag.start();
          health.serving();
          options.log.info("gateway listening", { address, tls: config.tls !== undefined, apiKeys: config.apiKeys?.length ?? 0 });
          warnIfExposed(config, options.log);
          resolve(address);
        });
      }),
    stop: async (graceMs = STOP_GRACE_MS) => {
      health.shuttingDown();
      // New calls are refused at once; calls in flight get `graceMs` to finish, then are cancelled.
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      // Streams never finish by themselves: closing the hub ends them (UNAVAILABLE), so they drain.
      const hubClosed = deps.hub.close();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([drained, graceOver]);
      clearTimeout(timer);
      shutdown.abort();
      server.forceShutdown();
      lag.stop();
      store.close();
      await hubClosed;
      await upbit.close();
    },
  };
}
