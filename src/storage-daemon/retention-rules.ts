import { ConfigError } from "../shared/errors.js";
import { bucketStart, DAY_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from "../shared/time.js";
import { isTimeframe, type Timeframe, TIMEFRAMES } from "../shared/timeframe.js";

/** How long candles are kept, per timeframe; a timeframe without a rule keeps everything. */
export type RetentionRules = ReadonlyMap<Timeframe, number>;

const UNIT_MS: Readonly<Record<string, number>> = { s: SECOND_MS, m: MINUTE_MS, h: 60 * MINUTE_MS, d: DAY_MS, w: WEEK_MS };

/**
 * Parses `1s=7d,1m=365d`: comma-separated `timeframe=duration`, the duration a positive whole
 * number of s, m, h, d or w. Strict, because a typo here deletes data: an unknown timeframe, a
 * malformed duration or a timeframe named twice is a ConfigError naming the entry.
 */
export function parseRetentionRules(raw: string, variable: string): RetentionRules {
  const rules = new Map<Timeframe, number>();
  if (raw.trim() === "") return rules;
  for (const entry of raw.split(",").map((e) => e.trim())) {
    const bad = (problem: string) => new ConfigError(variable, raw, `entry "${entry}": ${problem}`);
    const match = /^([^=\s]+)=(\d+)([a-z]+)$/.exec(entry);
    if (match === null) throw bad("expected timeframe=duration, e.g. 1s=7d");
    const [, tf, amount, unit] = match as unknown as [string, string, string, string];
    if (!isTimeframe(tf)) throw bad(`unknown timeframe "${tf}": expected one of ${TIMEFRAMES.join(", ")}`);
    const unitMs = UNIT_MS[unit];
    if (unitMs === undefined) throw bad(`unknown duration unit "${unit}": expected s, m, h, d or w`);
    const keepMs = Number(amount) * unitMs;
    if (!Number.isSafeInteger(keepMs) || keepMs <= 0) throw bad("the duration must be a positive whole number");
    if (rules.has(tf)) throw bad(`timeframe ${tf} has a rule already`);
    rules.set(tf, keepMs);
  }
  return rules;
}

/** `1s=7d,1m=365d`, in timeframe order: the rules as an operator writes them. */
export function formatRetentionRules(rules: RetentionRules): string {
  return TIMEFRAMES.filter((tf) => rules.has(tf)).map((tf) => `${tf}=${formatKeep(rules.get(tf)!)}`).join(",");
}

function formatKeep(ms: number): string {
  for (const unit of ["w", "d", "h", "m"] as const) if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${ms / SECOND_MS}s`;
}

/**
 * Candles of `tf` older than this are deleted at `now`: the start of the bucket holding
 * `now - keep`, so the cut falls on a bucket boundary and coverage stays aligned.
 */
export function retentionCutoff(tf: Timeframe, keepMs: number, now: number): number {
  return bucketStart(tf, now - keepMs);
}
