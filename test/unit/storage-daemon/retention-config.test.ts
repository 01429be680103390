import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/shared/errors.js";
import { loadStorageDaemonConfig } from "../../../src/storage-daemon/config.js";
import { formatRetentionRules, parseRetentionRules, retentionCutoff } from "../../../src/storage-daemon/retention-rules.js";

const DAY = 86_400_000;

describe("retention rules", () => {
  it("parses timeframe=duration entries in every unit", () => {
    const rules = parseRetentionRules("1s=7d, 1m=365d,60m=2w,1d=36h,3m=90m,5m=3600s", "V");
    expect([...rules]).toEqual([
      ["1s", 7 * DAY],
      ["1m", 365 * DAY],
      ["60m", 14 * DAY],
      ["1d", 36 * 3_600_000],
      ["3m", 90 * 60_000],
      ["5m", 3_600_000],
    ]);
    expect(formatRetentionRules(rules)).toBe("1s=1w,1m=365d,3m=90m,5m=1h,60m=2w,1d=36h");
    expect(parseRetentionRules("", "V").size).toBe(0);
  });

  it("refuses a bad entry with a ConfigError naming the variable and the entry", () => {
    const cases: [string, string][] = [
      ["1x=7d", 'entry "1x=7d": unknown timeframe "1x"'],
      ["1s=7y", 'entry "1s=7y": unknown duration unit "y"'],
      ["1s=7", 'entry "1s=7": expected timeframe=duration'],
      ["1s=-7d", 'entry "1s=-7d": expected timeframe=duration'],
      ["1s=0d", 'entry "1s=0d": the duration must be a positive whole number'],
      ["1s=1.5d", 'entry "1s=1.5d": expected timeframe=duration'],
      ["1s=7d,,1m=1d", 'entry "": expected timeframe=duration'],
      ["1s=7d,1s=8d", 'entry "1s=8d": timeframe 1s has a rule already'],
      ["1M=30d", 'entry "1M=30d": unknown timeframe "1M"'],
    ];
    for (const [raw, message] of cases) {
      const error = (() => {
        try {
          parseRetentionRules(raw, "BACKBONE_RETENTION");
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, raw).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message.startsWith(`BACKBONE_RETENTION=${JSON.stringify(raw)}: ${message}`), (error as ConfigError).message).toBe(true);
    }
  });

  it("cuts at the start of the bucket holding now - keep", () => {
    const now = Date.UTC(2025, 5, 15, 12, 34, 56, 789);
    expect(retentionCutoff("1s", 7 * DAY, now)).toBe(Date.UTC(2025, 5, 8, 12, 34, 56));
    expect(retentionCutoff("1m", DAY, now)).toBe(Date.UTC(2025, 5, 14, 12, 34));
    expect(retentionCutoff("1mo", 30 * DAY, now)).toBe(Date.UTC(2025, 4, 1));
  });
});

describe("storage daemon maintenance configuration", () => {
  it("has defaults: checkpoint every 5 min, maintenance every 10, compaction at 30% free of 64 MiB, keep forever", () => {
    const c = loadStorageDaemonConfig([], {});
    expect(c).toMatchObject({
      checkpointIntervalMs: 300_000,
      maintenanceIntervalMs: 600_000,
      compactFreeRatio: 0.3,
      compactMinBytes: 64 * 1024 * 1024,
    });
    expect(c.retention.size).toBe(0);
  });

  it("reads every variable, 0 turning a timer off", () => {
    const c = loadStorageDaemonConfig([], {
      BACKBONE_CHECKPOINT_INTERVAL_MS: "0",
      BACKBONE_MAINTENANCE_INTERVAL_MS: "1000",
      BACKBONE_COMPACT_FREE_RATIO: "0.5",
      BACKBONE_COMPACT_MIN_BYTES: "0",
      BACKBONE_RETENTION: "1s=7d",
    });
    expect(c).toMatchObject({ checkpointIntervalMs: 0, maintenanceIntervalMs: 1000, compactFreeRatio: 0.5, compactMinBytes: 0 });
    expect([...c.retention]).toEqual([["1s", 7 * DAY]]);
  });

  it("refuses bad values naming the variable", () => {
    const bad: [string, string, RegExp][] = [
      ["BACKBONE_CHECKPOINT_INTERVAL_MS", "-1", /^BACKBONE_CHECKPOINT_INTERVAL_MS="-1": must be a whole number >= 0$/],
      ["BACKBONE_MAINTENANCE_INTERVAL_MS", "10m", /^BACKBONE_MAINTENANCE_INTERVAL_MS="10m": must be a whole number >= 0$/],
      ["BACKBONE_COMPACT_FREE_RATIO", "1", /^BACKBONE_COMPACT_FREE_RATIO="1": must be a number between 0 and 1/],
      ["BACKBONE_COMPACT_FREE_RATIO", "0", /^BACKBONE_COMPACT_FREE_RATIO="0": must be a number between 0 and 1/],
      ["BACKBONE_COMPACT_FREE_RATIO", "abc", /^BACKBONE_COMPACT_FREE_RATIO="abc": must be a number between 0 and 1/],
      ["BACKBONE_COMPACT_MIN_BYTES", "64MiB", /^BACKBONE_COMPACT_MIN_BYTES="64MiB": must be a whole number >= 0$/],
      ["BACKBONE_RETENTION", "1m=forever", /^BACKBONE_RETENTION="1m=forever": entry "1m=forever": expected timeframe=duration/],
    ];
    for (const [variable, value, message] of bad) {
      expect(() => loadStorageDaemonConfig([], { [variable]: value }), variable).toThrow(message);
    }
  });
});
