import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/errors.js";
import { type LogLevel, logLevelFrom } from "../shared/logger.js";

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
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Accepts `unix:/abs/path` or a loopback `host:port`; anything else is a ConfigError. */
export function checkListenAddress(value: string, variable: string): string {
  if (value.startsWith("unix:")) {
    const path = value.slice("unix:".length).replace(/^\/\//, "");
    if (!isAbsolute(path)) throw new ConfigError(variable, value, "a unix socket needs an absolute path, e.g. unix:/run/backbone/storage.sock");
    return `unix:${path}`;
  }
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match || !LOOPBACK_HOSTS.has(match[1]!) || Number(match[2]) > 65_535) {
    throw new ConfigError(variable, value, "must be unix:/absolute/path or 127.0.0.1:PORT (loopback only)");
  }
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(variable, raw, "must be a positive integer");
  return n;
}


export function loadStorageDaemonConfig(argv: string[], env: NodeJS.ProcessEnv): StorageDaemonConfig {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: { "data-dir": { type: "string" }, listen: { type: "string" } },
      strict: true,
    }).values;
  } catch (e) {
    throw new ConfigError("argv", argv.join(" "), e instanceof Error ? e.message : String(e));
  }
  const listenVariable = flags.listen !== undefined ? "--listen" : "BACKBONE_STORAGE_LISTEN";
  return {
    dataDir: resolve(flags["data-dir"] ?? env.BACKBONE_DATA_DIR ?? "./data"),
    listen: checkListenAddress(flags.listen ?? env.BACKBONE_STORAGE_LISTEN ?? "127.0.0.1:50052", listenVariable),
    tickerTtlMs: positiveInt(env, "BACKBONE_CACHE_TICKER_TTL_MS", 10_000),
    orderbookTtlMs: positiveInt(env, "BACKBONE_CACHE_ORDERBOOK_TTL_MS", 10_000),
    tradesTtlMs: positiveInt(env, "BACKBONE_CACHE_TRADES_TTL_MS", 60_000),
    cacheMaxMarkets: positiveInt(env, "BACKBONE_CACHE_MAX_MARKETS", 5_000),
    cacheMaxTradesPerMarket: positiveInt(env, "BACKBONE_CACHE_MAX_TRADES", 500),
    logLevel: logLevelFrom(env),
  };
}
