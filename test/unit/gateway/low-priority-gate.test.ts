import { describe, expect, it } from "vitest";
import { LowPriorityGate } from "../../../src/gateway/scheduler/low-priority-gate.js";
import { FakeClock, flush } from "../../support/fake-clock.js";

function setup(options: { concurrency?: number; agingMs?: number } = {}) {
  const clock = new FakeClock();
  const state = { busy: false, lagMs: 0 };
  const gate = new LowPriorityGate({
    ...options,
    higherPriorityWaiting: () => state.busy,
    eventLoopLagMs: () => state.lagMs,
    lagThresholdMs: 50,
    now: clock.now,
    schedule: clock.schedule,
  });
  const admitted: number[] = [];
  const releases = new Map<number, () => void>();
  const enter = (id: number, signal?: AbortSignal) =>
    gate.admit(signal).then(
      (release) => {
        admitted.push(id);
        releases.set(id, release);
      },
      () => undefined,
    );
  return { clock, state, gate, admitted, releases, enter };
}

describe("LowPriorityGate", () => {
  it("admits at most `concurrency` LOW calls, the next one on each release", async () => {
    const { gate, admitted, releases, enter } = setup({ concurrency: 2 });
    for (let i = 0; i < 4; i++) void enter(i);
    await flush();
    expect(admitted).toEqual([0, 1]);
    releases.get(0)!();
    releases.get(0)!(); // idempotent
    await flush();
    expect(admitted).toEqual([0, 1, 2]);
    expect(gate.stats()).toEqual({ inFlight: 2, waiting: 1 });
  });

  it("holds LOW (without failing it) while higher-priority work waits or the event loop lags", async () => {
    const { clock, state, admitted, enter } = setup();
    state.busy = true;
    void enter(0);
    await clock.advance(1_000);
    expect(admitted).toEqual([]);
    state.busy = false;
    state.lagMs = 80;
    await clock.advance(1_000);
    expect(admitted).toEqual([]);
    state.lagMs = 10;
    await clock.advance(25);
    expect(admitted).toEqual([0]);
  });

  it("ages: a LOW call held for agingMs goes anyway", async () => {
    const { clock, state, admitted, enter } = setup({ agingMs: 3_000 });
    state.busy = true;
    void enter(0);
    await clock.advance(2_900);
    expect(admitted).toEqual([]);
    await clock.advance(200);
    expect(admitted).toEqual([0]);
  });

  it("drops an aborted waiter without admitting it", async () => {
    const { clock, state, gate, admitted, enter } = setup();
    state.busy = true;
    const controller = new AbortController();
    void enter(0, controller.signal);
    controller.abort();
    await flush();
    state.busy = false;
    await clock.advance(100);
    expect(admitted).toEqual([]);
    expect(gate.stats()).toEqual({ inFlight: 0, waiting: 0 });
  });
});
