import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTime, parseTimeArg } from "../../../src/cli/time-arg.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { DAY_MS, MAX_TIME_MS } from "../../../src/shared/time.js";

/** `ms` as local time at `offsetMinutes` east of UTC, spelled `YYYY-MM-DDTHH:MM:SS.mmm±HH:MM`. */
function isoWithOffset(ms: number, offsetMinutes: number, separator = ":"): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${separator}${String(abs % 60).padStart(2, "0")}`;
}

function usageMessage(value: string, option = "--from"): string {
  try {
    parseTimeArg(option, value);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`${value} parsed`);
}

describe("parseTimeArg", () => {
  // Offsets keep the local spelling inside years 0000-9999, so the generators stay a day inside the range.
  const times = fc.integer({ min: DAY_MS, max: MAX_TIME_MS - DAY_MS });
  const offsets = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });

  it("round-trips any epoch ms through ISO 8601 with Z", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_TIME_MS }), (ms) => parseTimeArg("--from", isoTime(ms)) === ms));
  });

  it("round-trips any epoch ms through ISO 8601 with any offset, with or without the colon", () => {
    fc.assert(
      fc.property(times, offsets, fc.constantFrom(":", ""), (ms, offset, sep) => {
        expect(parseTimeArg("--to", isoWithOffset(ms, offset, sep))).toBe(ms);
      }),
    );
  });

  it("round-trips any epoch ms written as digits", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_TIME_MS }), (ms) => parseTimeArg("--to", String(ms)) === ms));
  });

  it("never throws anything but a UsageError naming the option, whatever the text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.stringMatching(/^[-+:.TZ0-9 ]{0,40}$/)), (text) => {
        try {
          const ms = parseTimeArg("--from", text, () => 0);
          expect(Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIME_MS).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expect((e as Error).message).toMatch(/^--from: /);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("reads Upbit's forms: date only is UTC midnight, no offset is UTC, a space may separate date and time", () => {
    expect(parseTimeArg("--from", "2024-01-01")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimeArg("--from", "2024-01-01T09:30")).toBe(Date.UTC(2024, 0, 1, 9, 30));
    expect(parseTimeArg("--from", "2024-01-01 09:30:15")).toBe(Date.UTC(2024, 0, 1, 9, 30, 15));
    expect(parseTimeArg("--from", "2024-01-01T09:00:00+09:00")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimeArg("--from", "2023-12-31T19:00:00-05")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimeArg("--from", "2024-01-01T00:00:00.123456Z")).toBe(Date.UTC(2024, 0, 1) + 123);
    expect(parseTimeArg("--from", "1704067200000")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimeArg("--to", "now", () => 42)).toBe(42);
  });

  it("refuses impossible dates and out-of-range values with the option and value in the message", () => {
    expect(usageMessage("2024-02-30")).toBe('--from: "2024-02-30" is not a valid calendar date and time');
    expect(usageMessage("2023-02-29T00:00Z")).toMatch(/not a valid calendar date/);
    expect(usageMessage("2024-01-01T24:00:00Z")).toMatch(/not a valid calendar date/);
    expect(usageMessage("2024-01-01T00:00:00+24:00")).toMatch(/offset out of range/);
    expect(usageMessage("1969-12-31T23:59:59Z")).toMatch(/is outside 1970-01-01/);
    expect(usageMessage("0050-01-01")).toMatch(/is outside 1970-01-01/);
    expect(usageMessage("99999999999999999", "--to")).toMatch(/^--to: "99999999999999999" is not a time/);
    expect(usageMessage("yesterday")).toMatch(/^--from: "yesterday" is not a time: expected ISO 8601/);
    expect(usageMessage("2024-1-1")).toMatch(/is not a time/);
  });
});
