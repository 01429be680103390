import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/shared/errors.js";
import { createLogger, type LogLevel, logLevelFrom, onLogProblem, type ProblemLine, REDACTED } from "../../../src/shared/logger.js";

/** A logger whose lines land in an array, parsed. */
function capture(level: LogLevel) {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const log = createLogger("test-component", level, {
    destination: {
      write: (line) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { log, lines, raw };
}

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe("createLogger", () => {
  it("writes one JSON line per call: level label, ISO time, component, message, then the fields", () => {
    const { log, lines, raw } = capture("info");
    log.info("storage maintenance", { detail: "retention: deleted 25 candles", rows: 25n });
    expect(raw).toHaveLength(1);
    expect(raw[0]!.endsWith("\n")).toBe(true);
    expect(Object.keys(lines[0]!)).toEqual(["level", "time", "component", "message", "detail", "rows"]);
    expect(lines[0]).toMatchObject({ level: "info", component: "test-component", message: "storage maintenance", detail: "retention: deleted 25 candles", rows: 25 });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
    // Existing readers match the message ahead of the fields on the raw line.
    expect(raw[0]).toMatch(/"message":"storage maintenance".*retention: deleted 25/);
  });

  it("filters by level: debug only at debug, nothing at silent", () => {
    const levels: LogLevel[] = ["debug", "info", "warn", "error", "silent"];
    const written = Object.fromEntries(
      levels.map((level) => {
        const { log, lines } = capture(level);
        log.debug?.("d");
        log.info("i");
        log.warn("w");
        log.error("e");
        return [level, lines.map((l) => l.level)];
      }),
    );
    expect(written).toEqual({
      debug: ["debug", "info", "warn", "error"],
      info: ["info", "warn", "error"],
      warn: ["warn", "error"],
      error: ["error"],
      silent: [],
    });
  });

  it("never writes a secret field's value, at the top level or one level down", () => {
    const { log, raw, lines } = capture("info");
    log.warn("call refused", { apiKey: "k-123-secret", key: "k-456-secret", password: "hunter2", headers: { authorization: "Bearer t-789-secret" }, token: "t-000-secret", peer: "127.0.0.1" });
    expect(raw[0]).not.toMatch(/secret|hunter2/);
    expect(lines[0]).toMatchObject({ apiKey: REDACTED, key: REDACTED, password: REDACTED, token: REDACTED, headers: { authorization: REDACTED }, peer: "127.0.0.1" });
  });

  it("keeps a field named like a line key instead of letting it overwrite the message", () => {
    const { log, lines } = capture("info");
    log.error("upbit blocked this IP (418)", { message: "Too many requests", level: 3 });
    expect(lines[0]).toMatchObject({ level: "error", message: "upbit blocked this IP (418)", message_field: "Too many requests", level_field: 3 });
  });

  it("tells problem listeners of every warn and error, redacted, whatever the level", () => {
    const seen: ProblemLine[] = [];
    stops.push(onLogProblem((line) => seen.push(line)));
    const { log, lines } = capture("silent");
    log.info("fine");
    log.warn("upbit rate limited (429); group paused", { group: "candles", apiKey: "k-secret" });
    log.error("internal error", { method: "GetCandles" });
    expect(lines).toEqual([]);
    expect(seen.map((p) => [p.level, p.component, p.message])).toEqual([
      ["warn", "test-component", "upbit rate limited (429); group paused"],
      ["error", "test-component", "internal error"],
    ]);
    expect(seen[0]!.fields).toEqual({ group: "candles", apiKey: REDACTED });
  });

  it("stops telling a listener once removed, and survives a listener that throws", () => {
    const seen: string[] = [];
    const stop = onLogProblem((line) => seen.push(line.message));
    stops.push(onLogProblem(() => {
      throw new Error("listener bug");
    }));
    const { log } = capture("silent");
    log.warn("one");
    stop();
    log.warn("two");
    expect(seen).toEqual(["one"]);
  });
});

describe("logLevelFrom", () => {
  it("reads BACKBONE_LOG_LEVEL, info by default", () => {
    expect(logLevelFrom({})).toBe("info");
    for (const level of ["debug", "info", "warn", "error", "silent"]) expect(logLevelFrom({ BACKBONE_LOG_LEVEL: level })).toBe(level);
  });

  it("refuses anything else, naming the variable and the choices", () => {
    expect(() => logLevelFrom({ BACKBONE_LOG_LEVEL: "verbose" })).toThrow(ConfigError);
    expect(() => logLevelFrom({ BACKBONE_LOG_LEVEL: "verbose" })).toThrow(/BACKBONE_LOG_LEVEL.*debug, info, warn, error or silent/);
  });
});
