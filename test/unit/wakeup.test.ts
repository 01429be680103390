import { describe, expect, it, vi } from "vitest";
import { SETTLED, untilAborted } from "../../src/shared/until-aborted.js";
import { Wakeup } from "../../src/shared/wakeup.js";

describe("Wakeup", () => {
  it("ends a wait on wake, on abort and on timeout", async () => {
    const w = new Wakeup();
    const ac = new AbortController();
    const woken = w.wait(ac.signal);
    w.wake();
    await woken;
    const aborted = w.wait(ac.signal);
    ac.abort();
    await aborted;
    await w.wait(ac.signal); // already aborted: at once
    vi.useFakeTimers();
    try {
      const timed = w.wait(new AbortController().signal, 50);
      await vi.advanceTimersByTimeAsync(50);
      await timed;
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps one abort listener for any number of waits on the same signal", async () => {
    const w = new Wakeup();
    const ac = new AbortController();
    const add = vi.spyOn(ac.signal, "addEventListener");
    const remove = vi.spyOn(ac.signal, "removeEventListener");
    for (let i = 0; i < 100; i++) {
      const waiting = w.wait(ac.signal);
      w.wake();
      await waiting;
    }
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).not.toHaveBeenCalled();
    // A wait on another signal moves the one listener there.
    const other = new AbortController();
    const waiting = w.wait(other.signal);
    expect(remove).toHaveBeenCalledTimes(1);
    other.abort();
    await waiting;
  });
});

describe("untilAborted", () => {
  it("hands SETTLED back without listening, and races any other promise against the signal", async () => {
    const ac = new AbortController();
    const add = vi.spyOn(ac.signal, "addEventListener");
    expect(untilAborted(SETTLED, ac.signal)).toBe(SETTLED);
    expect(add).not.toHaveBeenCalled();
    const never = untilAborted(new Promise<void>(() => {}), ac.signal);
    ac.abort(new Error("gone"));
    await expect(never).rejects.toThrow("gone");
    await expect(untilAborted(SETTLED, ac.signal)).rejects.toThrow("gone");
  });
});
