import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { positiveIntFrom } from "../shared/env-vars.js";
import { ConfigError } from "../shared/errors.js";
import { checkListenAddress } from "../shared/listen-address.js";
import { type LogLevel, logLevelFrom } from "../shared/logger.js";
import { parseRetentionRules, type RetentionRules } from "./retention-rules.js";

/** Everything the storage daemon can be told; every field is documented in the README. */
export interface StorageDaemonConfig {
  /** Directory holding `candles.duckdb`. Default `./data` (`BACKBONE_DATA_DIR`, `--data-dir`). */
  dataDir: string;
  /**
   * Where to listen: `unix:/absolute/path` or a loopback `host:port` (127.0.0.1, localhost,
   * [::1]); port 0 picks a free port. Never all interfaces: the daemon trusts its callers.
   * Default `127.0.0.1:50052` (`BACKBONE_STORAGE_LISTEN`, `--listen`).
   */
  listen: string;
  /**
   * Stop when standard input closes (`--exit-with-stdin`): a supervisor that dies, even by
   * SIGKILL, closes the pipe, so its daemon never outlives it holding the store's lock.
   */
  exitWithStdin: boolean;
  /** Realtime cache time to live per kind, ms. Defaults 10 000 / 10 000 / 60 000. */
  tickerTtlMs: number;
  orderbookTtlMs: number;
  tradesTtlMs: number;
  /** Most markets the realtime cache holds per kind. Default 5 000. */
  cacheMaxMarkets: number;
  /** Most recent trades kept per market. Default 500. */
  cacheMaxTradesPerMarket: number;
  /** `info`, `warn`, `error` or `silent`. Default `info` (`BACKBONE_LOG_LEVEL`). */
  logLevel: LogLevel;
  /** Checkpoint the store this often, ms; 0 = only DuckDB's own (WAL size). Default 300 000. */
  checkpointIntervalMs: number;
  /** Run maintenance (retention, compaction check) this often, ms; 0 = only on Maintain. Default 600 000. */
  maintenanceIntervalMs: number;
  /** Compact when free blocks exceed this share of the file's blocks, 0 < r < 1. Default 0.3. */
  compactFreeRatio: number;
  /** ... and the file is at least this large, bytes. Default 64 MiB. */
  compactMinBytes: number;
  /** How long candles are kept per timeframe (`BACKBONE_RETENTION=1s=7d,1m=365d`). Default: forever. */
  retention: RetentionRules;
  /** DuckDB's memory limit (its block cache and query memory), e.g. `512MB` (`BACKBONE_DUCKDB_MEMORY_LIMIT`). */
  duckdbMemoryLimit: string;
}

/** A DuckDB memory size such as `512MB` or `2GiB`, from `env[variable]`. */
function memorySizeFrom(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[1-9]\d{0,8}(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/.test(raw)) throw new ConfigError(variable, raw, "must be a size such as 512MB or 2GiB");
  return raw;
}

/** A whole number >= 0 from `env[variable]`, `fallback` when unset or empty. */
function nonNegativeIntFrom(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || raw.trim() !== raw) throw new ConfigError(variable, raw, "must be a whole number >= 0");
  return n;
}

/** A number strictly between 0 and 1 from `env[variable]`, `fallback` when unset or empty. */
function ratioFrom(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n >= 1 || raw.trim() !== raw) throw new ConfigError(variable, raw, "must be a number between 0 and 1, e.g. 0.3");
  return n;
}

export function loadStorageDaemonConfig(argv: string[], env: NodeJS.ProcessEnv): StorageDaemonConfig {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: { "data-dir": { type: "string" }, listen: { type: "string" }, "exit-with-stdin": { type: "boolean" } },
      strict: true,
    }).values;
  } catch (e) {
    throw new ConfigError("argv", argv.join(" "), e instanceof Error ? e.message : String(e));
  }
  const listenVariable = flags.listen !== undefined ? "--listen" : "BACKBONE_STORAGE_LISTEN";
  return {
    dataDir: resolve(flags["data-dir"] ?? env.BACKBONE_DATA_DIR ?? "./data"),
    listen: checkListenAddress(flags.listen ?? env.BACKBONE_STORAGE_LISTEN ?? "127.0.0.1:50052", listenVariable),
    exitWithStdin: flags["exit-with-stdin"] ?? false,
    tickerTtlMs: positiveIntFrom(env, "BACKBONE_CACHE_TICKER_TTL_MS", 10_000),
    orderbookTtlMs: positiveIntFrom(env, "BACKBONE_CACHE_ORDERBOOK_TTL_MS", 10_000),
    tradesTtlMs: positiveIntFrom(env, "BACKBONE_CACHE_TRADES_TTL_MS", 60_000),
    cacheMaxMarkets: positiveIntFrom(env, "BACKBONE_CACHE_MAX_MARKETS", 5_000),
    cacheMaxTradesPerMarket: positiveIntFrom(env, "BACKBONE_CACHE_MAX_TRADES", 500),
    logLevel: logLevelFrom(env),
    checkpointIntervalMs: nonNegativeIntFrom(env, "BACKBONE_CHECKPOINT_INTERVAL_MS", 5 * 60_000),
    maintenanceIntervalMs: nonNegativeIntFrom(env, "BACKBONE_MAINTENANCE_INTERVAL_MS", 10 * 60_000),
    compactFreeRatio: ratioFrom(env, "BACKBONE_COMPACT_FREE_RATIO", 0.3),
    compactMinBytes: nonNegativeIntFrom(env, "BACKBONE_COMPACT_MIN_BYTES", 64 * 1024 * 1024),
    retention: parseRetentionRules(env.BACKBONE_RETENTION ?? "", "BACKBONE_RETENTION"),
    duckdbMemoryLimit: memorySizeFrom(env, "BACKBONE_DUCKDB_MEMORY_LIMIT", "512MB"),
  };
}
