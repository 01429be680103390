import { setTimeout as nextTimers } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { BUSY_BLOCK_BOUNDS_MS, EventLoopLag } from "../../../src/gateway/scheduler/event-loop-lag.js";
import { threadCpuClock } from "../../../src/gateway/scheduler/thread-cpu-clock.js";

const BLOCK_MS = 60;

/**
 * The probes' timers fell due during the block; timers run in order of due time, so by the time
 * one set after the block fires, they have all run.
 */
const afterOverdueTimers = () => nextTimers(1);

/** Blocks the thread until it has run `ms` of CPU time, however long the machine makes that take. */
function computeFor(ms: number): void {
  const clock = threadCpuClock();
  const from = clock.read();
  while (clock.read() - from < ms);
  clock.close();
}

describe("EventLoopLag", () => {
  let lag: EventLoopLag | undefined;
  afterEach(() => lag?.stop());

  it("does not count a block spent waiting (no CPU) as own work", async () => {
    lag = new EventLoopLag();
    lag.start();
    await afterOverdueTimers();
    // The thread sleeps: what descheduling by a busy machine looks like from inside.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BLOCK_MS);
    await afterOverdueTimers();
    // The next test shows the probe sees a block of this length when the thread runs through it.
    expect(lag.busyMaxMs).toBeLessThan(BLOCK_MS / 3);
  });

  it("counts a block spent computing as own work", async () => {
    lag = new EventLoopLag();
    lag.start();
    await afterOverdueTimers();
    computeFor(BLOCK_MS);
    await afterOverdueTimers();
    // Within the probe's 2 ms period (and what the thread ran between its last firing and the block).
    expect(lag.busyMaxMs).toBeGreaterThanOrEqual(BLOCK_MS - 3);
  });

  it("counts own-work blocks by length, so two readings tell what happened between them", async () => {
    lag = new EventLoopLag();
    lag.start();
    await afterOverdueTimers();
    const before = lag.busyBlocks;
    expect(before.map((b) => b.atLeastMs)).toEqual([...BUSY_BLOCK_BOUNDS_MS]);
    computeFor(BLOCK_MS);
    await afterOverdueTimers();
    const added = lag.busyBlocks.map((b, i) => ({ atLeastMs: b.atLeastMs, count: b.count - before[i]!.count }));
    // One block of ~60 ms: counted at every length up to 50 ms, none above.
    expect(added).toEqual(BUSY_BLOCK_BOUNDS_MS.map((atLeastMs) => ({ atLeastMs, count: atLeastMs <= 50 ? 1 : 0 })));
  });

  it("keeps its longest block across stop and start", async () => {
    lag = new EventLoopLag();
    lag.start();
    await afterOverdueTimers();
    computeFor(BLOCK_MS / 2);
    await afterOverdueTimers();
    const busy = lag.busyMaxMs;
    lag.stop();
    lag.start();
    expect(lag.busyMaxMs).toBe(busy);
  });
});

describe("threadCpuClock", () => {
  it("advances with the thread's own work, not with its waiting", () => {
    const clock = threadCpuClock();
    const t0 = clock.read();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    const waited = clock.read() - t0;
    // Timed by the process's CPU clock, not this one: however often the machine takes the core away.
    const cpu0 = process.cpuUsage();
    while (process.cpuUsage(cpu0).user < 30_000);
    const ran = clock.read() - t0 - waited;
    clock.close();
    expect(waited).toBeLessThan(10);
    // The process's clock also counts its other threads (GC), so the thread's own may be a little less.
    expect(ran).toBeGreaterThan(20);
  });
});
