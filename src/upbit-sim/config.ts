/**
 * Command-line flags of `npm run sim`. Each flag takes a value, as `--port 7070` or
 * `--port=7070`; anything unknown or malformed is a ConfigError naming the flag.
 */
import { ConfigError } from "../shared/errors.js";

export interface SimulatorConfig {
  /** TCP port for REST, admin and WebSocket; 0 picks a free one. Default 7070 (`--port`). */
  readonly port: number;
  /** Interface to listen on. Default `127.0.0.1` (`--host`). */
  readonly host: string;
  /** Seed of the synthetic exchange and of fault randomness. Default 1 (`--seed`). */
  readonly seed: number;
  /** Requests per second per quotation group per client IP. Default 10, Upbit's (`--rate-limit`). */
  readonly rateLimit: number;
  /** Number of KRW markets in the synthetic universe. Default 200 (`--markets`). */
  readonly markets: number;
  /** WebSocket idle timeout, ms. Default 120 000, Upbit's documented value (`--ws-idle-timeout-ms`). */
  readonly wsIdleTimeoutMs: number;
}

export const DEFAULT_SIMULATOR_CONFIG: SimulatorConfig = {
  port: 7070,
  host: "127.0.0.1",
  seed: 1,
  rateLimit: 10,
  markets: 200,
  wsIdleTimeoutMs: 120_000,
};

/** Upbit lists under 300 KRW pairs; a few thousand keeps startup quick and still stresses clients. */
const MAX_MARKETS = 5_000;
const MAX_RATE_LIMIT = 1_000_000;
const MAX_PORT = 65_535;
/** Shorter than a second would close sockets between a client's pings. */
const MIN_WS_IDLE_TIMEOUT_MS = 1_000;
const MAX_WS_IDLE_TIMEOUT_MS = 24 * 3_600_000;

type Field = keyof SimulatorConfig;

const FLAGS: ReadonlyMap<string, Field> = new Map([
  ["--port", "port"],
  ["--host", "host"],
  ["--seed", "seed"],
  ["--rate-limit", "rateLimit"],
  ["--markets", "markets"],
  ["--ws-idle-timeout-ms", "wsIdleTimeoutMs"],
]);

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text)) throw new ConfigError(flag, text, `must be an integer from ${min} to ${max}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(flag, text, `must be an integer from ${min} to ${max}`);
  return n;
}

type MutableConfig = { -readonly [K in Field]: SimulatorConfig[K] };

function setValue(config: MutableConfig, flag: string, field: Field, text: string): void {
  switch (field) {
    case "port":
      config.port = integer(flag, text, 0, MAX_PORT);
      return;
    case "host":
      if (!/^[A-Za-z0-9.:[\]-]+$/.test(text)) throw new ConfigError(flag, text, "must be a host name or IP address, e.g. 127.0.0.1");
      config.host = text;
      return;
    case "seed":
      config.seed = integer(flag, text, 0, 2 ** 32 - 1);
      return;
    case "rateLimit":
      config.rateLimit = integer(flag, text, 1, MAX_RATE_LIMIT);
      return;
    case "markets":
      config.markets = integer(flag, text, 1, MAX_MARKETS);
      return;
    case "wsIdleTimeoutMs":
      config.wsIdleTimeoutMs = integer(flag, text, MIN_WS_IDLE_TIMEOUT_MS, MAX_WS_IDLE_TIMEOUT_MS);
      return;
  }
}

/** The configuration from `argv` (the arguments after the script name). */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorConfig {
  const config: MutableConfig = { ...DEFAULT_SIMULATOR_CONFIG };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const field = FLAGS.get(flag);
    if (field === undefined) {
      throw new ConfigError(flag, eq < 0 ? "" : arg.slice(eq + 1), `unknown flag; known flags: ${[...FLAGS.keys()].join(", ")}`);
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(flag, "", "needs a value");
      value = next;
      i++;
    }
    setValue(config, flag, field, value);
  }
  return config;
}
