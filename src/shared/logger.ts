import { ConfigError } from "./errors.js";

/** Structured logs as JSON lines on stderr, so stdout stays free for what a program reports. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, silent: 3 };

export function createLogger(component: string, level: LogLevel = "info"): Logger {
  const emit = (lvl: Exclude<LogLevel, "silent">, message: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < RANK[level]) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, component, message, ...fields })}\n`,
    );
  };
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The level named by `BACKBONE_LOG_LEVEL` (default `info`); a ConfigError for anything else. */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.BACKBONE_LOG_LEVEL ?? "info";
  if (!["info", "warn", "error", "silent"].includes(raw)) {
    throw new ConfigError("BACKBONE_LOG_LEVEL", raw, "must be info, warn, error or silent");
  }
  return raw as LogLevel;
}
