import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type StatsResponse, StatsResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { StoreStatsPoller } from "../../../src/gateway/observability/store-stats-poller.js";
import { StoreUnavailableError } from "../../../src/gateway/store-client.js";

/** A daemon stand-in whose Stats answers when told to. */
function daemon() {
  const pending: Array<{ resolve: (s: StatsResponse) => void; reject: (e: Error) => void; signal: AbortSignal | undefined }> = [];
  return {
    pending,
    stats: (o: { signal?: AbortSignal } = {}) => new Promise<StatsResponse>((resolve, reject) => pending.push({ resolve, reject, signal: o.signal })),
  };
}

describe("StoreStatsPoller", () => {
  it("asks once for any number of concurrent reads, then reuses the reading while it is young", async () => {
    const d = daemon();
    const clock = { t: 1_000 };
    const poller = new StoreStatsPoller(d, { maxAgeMs: 5_000, now: () => clock.t });
    const reads = [poller.read(), poller.read(), poller.read()];
    expect(d.pending).toHaveLength(1);
    expect(d.pending[0]!.signal).toBeInstanceOf(AbortSignal); // the call has a deadline
    d.pending[0]!.resolve(create(StatsResponseSchema, { freeBlocks: 3n }));
    const [a, b, c] = await Promise.all(reads);
    expect(a).toEqual(b);
    expect(b).toEqual(c);
    expect(a!.ok && a!.stats.freeBlocks).toBe(3n);
    clock.t += 4_999;
    expect(await poller.read()).toBe(a);
    expect(d.pending).toHaveLength(1);
    clock.t += 1;
    const next = poller.read();
    expect(d.pending).toHaveLength(2);
    d.pending[1]!.resolve(create(StatsResponseSchema, { freeBlocks: 4n }));
    const reading = await next;
    expect(reading.ok && reading.stats.freeBlocks).toBe(4n);
  });

  it("turns a failed call into a reading that says why", async () => {
    const d = daemon();
    const poller = new StoreStatsPoller(d, { now: () => 5 });
    const read = poller.read();
    d.pending[0]!.reject(new StoreUnavailableError("storage daemon unavailable: connect ECONNREFUSED"));
    expect(await read).toEqual({ ok: false, atMs: 5, error: "storage daemon unavailable: connect ECONNREFUSED" });
    expect(poller.peek()).toEqual(await read);
  });
});
