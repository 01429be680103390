import { MAX_TIME_MS } from "../shared/time.js";
import { badOptionValue } from "./usage-error.js";

/**
 * `YYYY-MM-DD`, optionally followed by `T` (or a space, as Upbit accepts) and `HH:MM`, `:SS`,
 * `.fraction`, then an optional offset `Z`, `±HH:MM`, `±HHMM` or `±HH`. No offset means UTC, as
 * on Upbit.
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:(Z|z)|([+-])(\d{2})(?::?(\d{2}))?)?$/;
const EPOCH_MS = /^\d{1,16}$/;

const EXPECTED =
  "is not a time: expected ISO 8601 (2024-01-01, 2024-01-01T09:00:00+09:00, 2024-01-01T00:00:00Z), epoch milliseconds or now";

/**
 * The UTC epoch milliseconds `value` names; a UsageError naming `option` and the value
 * otherwise. Accepts ISO 8601 as above, epoch milliseconds as digits, and `now` (from `now()`).
 * Fractions finer than a millisecond are truncated, since the wire carries milliseconds.
 */
export function parseTimeArg(option: string, value: string, now: () => number = Date.now): number {
  const text = value.trim();
  if (text === "now") return now();
  if (EPOCH_MS.test(text)) return inRange(option, value, Number(text));
  const m = ISO_8601.exec(text);
  if (m === null) throw badOptionValue(option, value, EXPECTED);
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "", , sign, offsetHours, offsetMinutes = "00"] = m;
  const fields = [year, month, day].map(Number) as [number, number, number];
  const [h, min, s] = [hour, minute, second].map(Number) as [number, number, number];
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(fields[0], fields[1] - 1, fields[2]);
  d.setUTCHours(h, min, s, Number(fraction.padEnd(3, "0").slice(0, 3)));
  const local = d.getTime();
  // Dates roll 2024-02-30 over into March; a round trip through the fields catches that.
  if (
    d.getUTCFullYear() !== fields[0] ||
    d.getUTCMonth() !== fields[1] - 1 ||
    d.getUTCDate() !== fields[2] ||
    h > 23 ||
    min > 59 ||
    s > 59
  ) {
    throw badOptionValue(option, value, "is not a valid calendar date and time");
  }
  let offsetMs = 0;
  if (sign !== undefined) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 23 || om > 59) throw badOptionValue(option, value, "has a UTC offset out of range (at most ±23:59)");
    offsetMs = (sign === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return inRange(option, value, local - offsetMs);
}

function inRange(option: string, value: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw badOptionValue(option, value, "is outside 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z");
  }
  return ms;
}

/** `ms` as ISO 8601 in UTC with milliseconds, the form every output of the CLI uses. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
