import { resolve } from "node:path";
import { positiveIntFrom } from "../shared/env-vars.js";
import { ConfigError } from "../shared/errors.js";
import { checkListenAddress } from "../shared/listen-address.js";
import { type LogLevel, logLevelFrom } from "../shared/logger.js";
import type { RealtimeHubTuning } from "./realtime/realtime-hub.js";
import { loadUpstreamConfig, type UpstreamConfig } from "./upstream/upstream-config.js";

/** Everything the gateway can be told; every field is documented in the README. */
export interface GatewayConfig {
  /** `host:port` the public gRPC API listens on. Default `127.0.0.1:50051` (`BACKBONE_LISTEN`). */
  listen: string;
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
  /** Upstream candle windows fetched at once per request. Default 8 (`BACKBONE_FETCH_PARALLELISM`). */
  fetchParallelism: number;
  /** Live-stream hub tuning (`BACKBONE_STREAM_GRACE_MS`, `BACKBONE_AUTO_SUBSCRIBE_READS`, `BACKBONE_AUTO_SUBSCRIBE_WINDOW_MS`). */
  realtime: Pick<RealtimeHubTuning, "graceMs" | "autoSubscribe">;
  /** `info`, `warn`, `error` or `silent`. Default `info` (`BACKBONE_LOG_LEVEL`). */
  logLevel: LogLevel;
}


export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const listen = env.BACKBONE_LISTEN ?? "127.0.0.1:50051";
  const match = /^(.+):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[2]) > 65_535) throw new ConfigError("BACKBONE_LISTEN", listen, "must be host:port, e.g. 127.0.0.1:50051");
  return {
    listen,
    storageAddress: checkListenAddress(env.BACKBONE_STORAGE_LISTEN ?? "127.0.0.1:50052", "BACKBONE_STORAGE_LISTEN"),
    dataDir: resolve(env.BACKBONE_DATA_DIR ?? "./data"),
    upstream: loadUpstreamConfig(env),
    maxUnaryCandles: positiveIntFrom(env, "BACKBONE_MAX_CANDLES", 20_000),
    maxRequestBytes: positiveIntFrom(env, "BACKBONE_MAX_REQUEST_BYTES", 1024 * 1024),
    fetchParallelism: positiveIntFrom(env, "BACKBONE_FETCH_PARALLELISM", 8),
    realtime: {
      graceMs: positiveIntFrom(env, "BACKBONE_STREAM_GRACE_MS", 10_000),
      autoSubscribe: {
        reads: positiveIntFrom(env, "BACKBONE_AUTO_SUBSCRIBE_READS", 5),
        windowMs: positiveIntFrom(env, "BACKBONE_AUTO_SUBSCRIBE_WINDOW_MS", 10_000),
      },
    },
    logLevel: logLevelFrom(env),
  };
}
