import { pino, stdTimeFunctions } from "pino";
import { ConfigError } from "./errors.js";

/**
 * Structured logs (pino) as JSON lines on stderr, so stdout stays free for what a program reports:
 * `{"level":"info","time":"<ISO 8601>","component":"gateway","message":"...",...fields}`.
 */
export interface Logger {
  /**
   * Detail nobody needs unless chasing a problem (one line per request); written only at level
   * `debug`. Optional so hand-written loggers (tests that record messages) need not have it:
   * call it as `log.debug?.(...)`.
   */
  debug?(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** A warn or error line as `onLogProblem` listeners see it, secrets already redacted. */
export interface ProblemLine {
  /** ISO 8601, as in the log line. */
  time: string;
  level: "warn" | "error";
  component: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface LoggerOptions {
  /** Where lines go. Default stderr; tests pass a collector. */
  destination?: { write(line: string): void };
}

/**
 * Field names whose values never reach a log line, at the top level or one level down (e.g.
 * `headers.authorization`): they hold API keys, tokens or passwords.
 */
export const SECRET_FIELDS: readonly string[] = ["key", "apiKey", "api_key", "authorization", "Authorization", "token", "accessToken", "password", "secret"];
export const REDACTED = "[redacted]";

/** Keys the line itself uses; a field of the same name is written as `<name>_field` instead of overwriting them. */
const RESERVED = new Set(["level", "time", "component", "message"]);

const problemListeners = new Set<(line: ProblemLine) => void>();

/**
 * Calls `listener` with every warn and error line any logger of this process is asked for, also
 * when its level keeps the line off stderr (the status page lists recent problems whatever the
 * log level). Returns the function that stops it.
 */
export function onLogProblem(listener: (line: ProblemLine) => void): () => void {
  problemListeners.add(listener);
  return () => problemListeners.delete(listener);
}

export function createLogger(component: string, level: LogLevel = "info", options: LoggerOptions = {}): Logger {
  const out = pino(
    {
      level,
      base: { component },
      messageKey: "message",
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: SECRET_FIELDS.flatMap((name) => [name, `*.${name}`]), censor: REDACTED },
    },
    options.destination ?? process.stderr,
  );
  const emit = (lvl: Exclude<LogLevel, "silent">, message: string, fields?: Record<string, unknown>) => {
    if (problemListeners.size > 0 && (lvl === "warn" || lvl === "error")) tellProblem(lvl, component, message, fields);
    if (!out.isLevelEnabled(lvl)) return;
    // The message goes in the object, ahead of the fields, so every line reads time, level,
    // component, message, then fields (pino would put a message argument last).
    out[lvl](lineObject(message, fields));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The level named by `BACKBONE_LOG_LEVEL` (default `info`); a ConfigError for anything else. */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.BACKBONE_LOG_LEVEL ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError("BACKBONE_LOG_LEVEL", raw, "must be debug, info, warn, error or silent");
  }
  return raw as LogLevel;
}

/** A copy of `fields` with every secret field's value replaced, at the levels `SECRET_FIELDS` covers. */
export function redactSecrets(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELDS.includes(k)) copy[k] = REDACTED;
    else if (depth === 0 && isPlainObject(v)) copy[k] = redactSecrets(v, 1);
    else copy[k] = v;
  }
  return copy;
}

function lineObject(message: string, fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const line: Record<string, unknown> = { message };
  if (fields === undefined) return line;
  for (const [k, v] of Object.entries(fields)) line[RESERVED.has(k) ? `${k}_field` : k] = v;
  return line;
}

function tellProblem(level: "warn" | "error", component: string, message: string, fields: Record<string, unknown> | undefined): void {
  const line: ProblemLine = { time: new Date().toISOString(), level, component, message, fields: fields === undefined ? {} : redactSecrets(fields) };
  for (const listener of problemListeners) {
    try {
      listener(line);
    } catch {
      // A listener's failure must not turn logging into a crash.
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
