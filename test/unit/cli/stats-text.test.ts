import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { statsText } from "../../../src/cli/commands/stats.js";
import { GetStatsResponseSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

const SERVER_TIME = Date.UTC(2025, 5, 15, 12, 0, 0);
const gateway = { startedAtMs: BigInt(SERVER_TIME - 3_600_000), serverTimeMs: BigInt(SERVER_TIME), activeStreams: 2, upstreamSubscriptions: 3, upstreamCalls: 40n };
const store = {
  available: true,
  databaseSizeBytes: 80n * 1024n * 1024n,
  walSizeBytes: 0n,
  blockSize: 262_144n,
  totalBlocks: 320n,
  freeBlocks: 96n,
  candleRows: 1_234_567n,
  seriesCount: 4,
};

describe("mdb stats text", () => {
  it("shows the last maintenance run, what it did, the last compaction and retention's deletions", () => {
    const text = statsText(
      create(GetStatsResponseSchema, {
        store: {
          ...store,
          lastMaintenanceMs: BigInt(SERVER_TIME - 125_000),
          lastMaintenanceDetail: "retention: deleted 1,000 candles (1s before 2025-06-08T12:00:00.000Z); compaction: not needed; checkpoint: done",
          lastCompactionMs: BigInt(SERVER_TIME - 2 * 86_400_000),
          retentionDeletedRows: 5_000n,
        },
        gateway,
      }),
      false,
    );
    expect(text).toMatch(/^ {2}blocks\s+320 total, 96 free, 256\.0 KiB \(262,144 bytes\) each$/m);
    expect(text).toMatch(/^ {2}last maintenance\s+2025-06-15T11:57:55(\.000)?Z \(2m05s ago\)$/m);
    expect(text).toMatch(/^ {2}maintenance did\s+retention: deleted 1,000 candles \(1s before 2025-06-08T12:00:00\.000Z\); compaction: not needed; checkpoint: done$/m);
    expect(text).toMatch(/^ {2}last compaction\s+2025-06-13T12:00:00(\.000)?Z \(2d00h ago\)$/m);
    expect(text).toMatch(/^ {2}retention deleted\s+5,000 candles since the daemon started$/m);
  });

  it("says when no maintenance has run since the daemon started", () => {
    const text = statsText(create(GetStatsResponseSchema, { store, gateway }), false);
    expect(text).toMatch(/^ {2}last maintenance\s+none since the daemon started$/m);
    expect(text).toMatch(/^ {2}last compaction\s+none since the daemon started$/m);
    expect(text).toMatch(/^ {2}retention deleted\s+0 candles since the daemon started$/m);
    expect(text).not.toContain("maintenance did");
  });

  it("shows no maintenance lines when the daemon is unavailable", () => {
    const text = statsText(create(GetStatsResponseSchema, { store: { available: false }, gateway }), false);
    expect(text).toMatch(/^store\s+unavailable/m);
    expect(text).not.toContain("maintenance");
  });
});
