import { resolve } from "node:path";
import { positiveIntFrom } from "../shared/env-vars.js";
import { ConfigError } from "../shared/errors.js";
import { checkListenAddress } from "../shared/listen-address.js";
import { type LogLevel, logLevelFrom } from "../shared/logger.js";
import { type MetricsListen, metricsListenFrom } from "./observability/metrics-listen.js";
import { type ApiKey, loadApiKeys } from "./api-keys.js";
import type { RealtimeHubTuning } from "./realtime/realtime-hub.js";
import { MARKETS_PER_CALL_VARIABLE } from "./security/call-guard.js";
import { allowRemoteFrom, checkPublicListen, isLoopbackHost } from "./security/listen-policy.js";
import { STREAMS_PER_CLIENT_VARIABLE } from "./security/stream-quota.js";
import { loadTlsFiles, type TlsFiles } from "./security/tls-files.js";
import { MAX_SNAPSHOT_MARKETS } from "./snapshots/requested-markets.js";
import { DEFAULT_RETRY_WINDOW_MS } from "./upstream/upbit-rest-client.js";
import { loadUpstreamConfig, type UpstreamConfig } from "./upstream/upstream-config.js";

/** Everything the gateway can be told; every field is documented in the README. */
export interface GatewayConfig {
  /**
   * `host:port` the public gRPC API listens on. Default `127.0.0.1:50051` (`BACKBONE_LISTEN`);
   * beyond loopback only with `BACKBONE_ALLOW_REMOTE=1`.
   */
  listen: string;
  /** True when `listen` is beyond loopback (allowed by `BACKBONE_ALLOW_REMOTE=1`). */
  remote: boolean;
  /** Certificate chain and key to serve TLS with; plaintext when absent (`BACKBONE_TLS_CERT`, `BACKBONE_TLS_KEY`). */
  tls?: TlsFiles;
  /** The API keys calls must carry; anyone may call at any priority when absent (`BACKBONE_API_KEYS_FILE`). */
  apiKeys?: readonly ApiKey[];
  /**
   * Most distinct markets one call may name. Default and maximum 2,000; it lowers each RPC's own
   * cap (snapshots 2,000, streams 1,000, FetchCandleRange 100), never raises it (`BACKBONE_MAX_MARKETS_PER_CALL`).
   */
  maxMarketsPerCall: number;
  /** Streams one client (API key, or peer host without keys) may hold open. Default 1,000 (`BACKBONE_MAX_STREAMS_PER_CLIENT`). */
  maxStreamsPerClient: number;
  /** Where the storage daemon listens (loopback or unix socket). Default `127.0.0.1:50052` (`BACKBONE_STORAGE_LISTEN`). */
  storageAddress: string;
  /** The daemon's data directory, passed to the sidecar. Default `./data` (`BACKBONE_DATA_DIR`). */
  dataDir: string;
  /** Where Upbit is. */
  upstream: UpstreamConfig;
  /** Most candles one GetCandles answer may hold. Default 20,000 (`BACKBONE_MAX_CANDLES`). */
  maxUnaryCandles: number;
  /** Largest request message accepted, bytes. Default 1 MiB (`BACKBONE_MAX_REQUEST_BYTES`). */
  maxRequestBytes: number;
  /**
   * How long an upstream request keeps retrying 5xx, 429 and network failures before the call is
   * answered UNAVAILABLE; a call's own deadline ends it sooner. Default 30,000 (`BACKBONE_UPSTREAM_RETRY_WINDOW_MS`).
   */
  upstreamRetryWindowMs: number;
  /** Upstream candle windows fetched at once per request. Default 8 (`BACKBONE_FETCH_PARALLELISM`). */
  fetchParallelism: number;
  /** Live-stream hub tuning (`BACKBONE_STREAM_GRACE_MS`, `BACKBONE_AUTO_SUBSCRIBE_READS`, `BACKBONE_AUTO_SUBSCRIBE_WINDOW_MS`). */
  realtime: Pick<RealtimeHubTuning, "graceMs" | "autoSubscribe">;
  /** `debug`, `info`, `warn`, `error` or `silent`. Default `info` (`BACKBONE_LOG_LEVEL`). */
  logLevel: LogLevel;
  /** Where /metrics, /status.json and the status page are served; undefined when `off`. Default 127.0.0.1:9464 (`BACKBONE_METRICS_LISTEN`). */
  metricsListen: MetricsListen | undefined;
}


/**
 * One client's streams: all programs on the gateway's own machine share the peer 127.0.0.1 when
 * no keys are configured, so the default leaves room for a whole machine (the hub is sized for
 * 1,000 subscribers) while still bounding a runaway client.
 */
const DEFAULT_STREAMS_PER_CLIENT = 1_000;

function maxMarketsPerCallFrom(env: NodeJS.ProcessEnv): number {
  const n = positiveIntFrom(env, MARKETS_PER_CALL_VARIABLE, MAX_SNAPSHOT_MARKETS);
  if (n > MAX_SNAPSHOT_MARKETS) {
    throw new ConfigError(MARKETS_PER_CALL_VARIABLE, String(n), `must be at most ${MAX_SNAPSHOT_MARKETS}: it lowers the RPCs' own caps, it cannot raise them`);
  }
  return n;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv, nowMs = Date.now()): GatewayConfig {
  const listen = env.BACKBONE_LISTEN ?? "127.0.0.1:50051";
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[2]) > 65_535) throw new ConfigError("BACKBONE_LISTEN", listen, "must be host:port, e.g. 127.0.0.1:50051");
  const allowRemote = allowRemoteFrom(env);
  checkPublicListen(match[1]!, listen, allowRemote);
  const tls = loadTlsFiles(env, nowMs);
  const apiKeys = loadApiKeys(env);
  return {
    listen,
    remote: !isLoopbackHost(match[1]!),
    tls,
    apiKeys,
    maxMarketsPerCall: maxMarketsPerCallFrom(env),
    maxStreamsPerClient: positiveIntFrom(env, STREAMS_PER_CLIENT_VARIABLE, DEFAULT_STREAMS_PER_CLIENT),
    storageAddress: checkListenAddress(env.BACKBONE_STORAGE_LISTEN ?? "127.0.0.1:50052", "BACKBONE_STORAGE_LISTEN"),
    dataDir: resolve(env.BACKBONE_DATA_DIR ?? "./data"),
    upstream: loadUpstreamConfig(env),
    maxUnaryCandles: positiveIntFrom(env, "BACKBONE_MAX_CANDLES", 20_000),
    maxRequestBytes: positiveIntFrom(env, "BACKBONE_MAX_REQUEST_BYTES", 1024 * 1024),
    upstreamRetryWindowMs: positiveIntFrom(env, "BACKBONE_UPSTREAM_RETRY_WINDOW_MS", DEFAULT_RETRY_WINDOW_MS),
    fetchParallelism: positiveIntFrom(env, "BACKBONE_FETCH_PARALLELISM", 8),
    realtime: {
      graceMs: positiveIntFrom(env, "BACKBONE_STREAM_GRACE_MS", 10_000),
      autoSubscribe: {
        reads: positiveIntFrom(env, "BACKBONE_AUTO_SUBSCRIBE_READS", 5),
        windowMs: positiveIntFrom(env, "BACKBONE_AUTO_SUBSCRIBE_WINDOW_MS", 10_000),
      },
    },
    logLevel: logLevelFrom(env),
    metricsListen: metricsListenFrom(env),
  };
}
