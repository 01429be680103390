import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PRIORITIES,
  RateLimiter,
  blockDurationMs,
  parseRemainingReq,
  type Priority,
  type RateLimiterOptions,
  type RatePermit,
} from "../../../src/gateway/upstream/rate-limiter.js";
import { isAbortError, isUpstreamBlockedError, isUpstreamUnavailableError } from "../../../src/gateway/upstream/upstream-errors.js";
import { FakeClock, flush } from "../../support/fake-clock.js";

/**
 * A limiter on a fake clock. By default each request "completes" the moment it is granted
 * (`autoRelease`), so a slot comes free exactly one window after its grant.
 */
function setup(options: RateLimiterOptions = {}, { autoRelease = true } = {}) {
  const clock = new FakeClock();
  // The reserve held throughout unless a test is about lending it out; windows of 1,050 ms.
  const limiter = new RateLimiter({ now: clock.now, schedule: clock.schedule, random: () => 0, criticalReserveIdleMs: Number.POSITIVE_INFINITY, windowSlackMs: 50, ...options });
  const grants: Array<{ priority: Priority; at: number; id: number; permit: RatePermit }> = [];
  const failures: Array<{ id: number; error: unknown }> = [];
  let nextId = 0;
  const acquire = (priority: Priority, signal?: AbortSignal, group = "candles") => {
    const id = nextId++;
    const p = limiter.acquire(group, priority, signal).then(
      (permit) => {
        grants.push({ priority, at: permit.grantedAtMs, id, permit });
        if (autoRelease) limiter.release(permit);
        return permit;
      },
      (error: unknown) => {
        failures.push({ id, error });
        return undefined;
      },
    );
    return { id, permit: p };
  };
  return { clock, limiter, grants, failures, acquire };
}

describe("parseRemainingReq", () => {
  it("reads group and sec and ignores the deprecated min", () => {
    expect(parseRemainingReq("group=candles; min=600; sec=9")).toEqual({ group: "candles", sec: 9 });
    expect(parseRemainingReq("group=crix-trades; min=600; sec=0")).toEqual({ group: "crix-trades", sec: 0 });
    expect(parseRemainingReq("group=market;sec=3")).toEqual({ group: "market", sec: 3 });
  });

  it("gives undefined for an absent or unreadable header", () => {
    expect(parseRemainingReq(undefined)).toBeUndefined();
    expect(parseRemainingReq("group=candles; min=600")).toBeUndefined();
    expect(parseRemainingReq("group=candles; sec=-1")).toBeUndefined();
    expect(parseRemainingReq("garbage")).toBeUndefined();
  });
});

describe("blockDurationMs", () => {
  const now = Date.UTC(2026, 2, 11, 14, 40, 0);
  it("prefers Retry-After, in seconds or as an HTTP date", () => {
    expect(blockDurationMs("blocked for 10 minutes", "30", now)).toBe(30_000);
    expect(blockDurationMs(undefined, new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
  });

  it("reads the first number with a time unit from the message, English or Korean", () => {
    expect(blockDurationMs("Too many requests. Blocked for 30 seconds", undefined, now)).toBe(30_000);
    expect(blockDurationMs("IP blocked: 5 min", undefined, now)).toBe(300_000);
    expect(blockDurationMs("요청 제한 초과로 10분 동안 차단됩니다", undefined, now)).toBe(600_000);
    expect(blockDurationMs("retry in 1.5s", undefined, now)).toBe(1_500);
    expect(blockDurationMs("limit 600 exceeded, wait 2 hours", undefined, now)).toBe(7_200_000);
  });

  it("gives undefined when nothing says how long", () => {
    expect(blockDurationMs("Too many requests", undefined, now)).toBeUndefined();
    expect(blockDurationMs(undefined, undefined, now)).toBeUndefined();
    expect(blockDurationMs("error 418", undefined, now)).toBeUndefined();
  });
});

describe("RateLimiter window accounting", () => {
  it("grants at most the limit per sliding window of 1 s + slack", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 10, criticalReserve: 0, windowSlackMs: 50 });
    for (let i = 0; i < 25; i++) acquire("NORMAL");
    await flush();
    expect(grants).toHaveLength(10);
    await clock.advance(1_049);
    expect(grants).toHaveLength(10);
    await clock.advance(1);
    expect(grants).toHaveLength(20);
    await clock.advance(1_050);
    expect(grants).toHaveLength(25);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("holds a slot while its request is in flight and for a window after it completes", async () => {
    const { clock, grants, acquire, limiter } = setup({ limitPerSecond: 2, criticalReserve: 0 }, { autoRelease: false });
    acquire("NORMAL");
    acquire("NORMAL");
    acquire("NORMAL");
    await flush();
    expect(grants).toHaveLength(2);
    await clock.advance(5_000);
    expect(grants).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
    limiter.release(grants[0]?.permit as RatePermit);
    limiter.release(grants[0]?.permit as RatePermit); // idempotent
    await clock.advance(1_049);
    expect(grants).toHaveLength(2);
    await clock.advance(1);
    expect(grants).toHaveLength(3);
    expect(limiter.stats("candles").inWindow).toBe(2);
  });

  it("never lets more than the limit arrive in any 1-s interval, whatever the latencies, arrival pattern and priorities (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), priority: fc.constantFrom(...PRIORITIES), n: fc.integer({ min: 1, max: 6 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 12 }),
        // Per request: latency to completion, and where in it Upbit received the request (0 = at once).
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 16, maxLength: 16 }),
        async (bursts, limit, latencies) => {
          const reserve = limit > 2 ? 2 : 0;
          const { clock, grants, acquire, limiter } = setup({ limitPerSecond: limit, criticalReserve: reserve, windowSlackMs: 0 }, { autoRelease: false });
          const arrivals: Array<{ at: number; critical: boolean }> = [];
          let total = 0;
          let released = 0;
          const completeGranted = () => {
            for (; released < grants.length; released++) {
              const g = grants[released];
              const [latency, where] = latencies[released % latencies.length] ?? [0, 0];
              if (g === undefined) continue;
              arrivals.push({ at: g.at + where * latency, critical: g.priority === "CRITICAL" });
              clock.schedule(() => {
                limiter.release(g.permit);
                completeGranted();
              }, latency);
            }
          };
          for (const b of bursts) {
            await clock.advance(b.gapMs);
            for (let i = 0; i < b.n; i++) acquire(b.priority);
            total += b.n;
            await flush();
            completeGranted();
          }
          for (let i = 0; i < 100 && grants.length < total; i++) {
            await clock.advance(1_000);
            completeGranted();
          }
          expect(grants).toHaveLength(total);
          const all = arrivals.map((a) => a.at).sort((a, b) => a - b);
          const nonCritical = arrivals.filter((a) => !a.critical).map((a) => a.at).sort((a, b) => a - b);
          // Any half-open interval [t, t + 1000) — Upbit's windows, whatever their phase.
          for (let i = 0; i + limit < all.length; i++) expect((all[i + limit] ?? 0) - (all[i] ?? 0)).toBeGreaterThanOrEqual(1_000);
          const cap = limit - reserve;
          for (let i = 0; i + cap < nonCritical.length; i++) expect((nonCritical[i + cap] ?? 0) - (nonCritical[i] ?? 0)).toBeGreaterThanOrEqual(1_000);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keeps groups independent", async () => {
    const { grants, acquire } = setup({ limitPerSecond: 3, criticalReserve: 0 });
    for (let i = 0; i < 5; i++) acquire("NORMAL", undefined, "candles");
    for (let i = 0; i < 5; i++) acquire("NORMAL", undefined, "ticker");
    await flush();
    expect(grants).toHaveLength(6);
  });

  it("uses per-group limits and the safety margin", async () => {
    const { limiter, acquire } = setup({ limitPerSecond: 10, groupLimits: { ticker: 5 }, safetyMargin: 1, criticalReserve: 0 });
    for (let i = 0; i < 12; i++) acquire("NORMAL", undefined, "candles");
    for (let i = 0; i < 12; i++) acquire("NORMAL", undefined, "ticker");
    await flush();
    expect(limiter.stats("candles").inWindow).toBe(9);
    expect(limiter.stats("ticker").inWindow).toBe(4);
  });

  it("rejects options that leave nothing for LOW", () => {
    expect(() => new RateLimiter({ limitPerSecond: 2, criticalReserve: 2 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limitPerSecond: 10, safetyMargin: 5, criticalReserve: 3, lowHeadroom: 2 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limitPerSecond: 1.5 })).toThrow(RangeError);
    expect(() => new RateLimiter({ groupLimits: { candles: 0 } })).toThrow(RangeError);
  });
});

describe("RateLimiter priorities", () => {
  it("serves CRITICAL, HIGH, NORMAL, LOW in that order, FIFO within one", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 3, criticalReserve: 0 });
    for (let i = 0; i < 3; i++) acquire("NORMAL");
    await flush();
    const order = [acquire("LOW"), acquire("NORMAL"), acquire("HIGH"), acquire("LOW"), acquire("CRITICAL"), acquire("HIGH")];
    await clock.advance(1_050);
    expect(grants.slice(3).map((g) => g.id)).toEqual([order[4], order[2], order[5]].map((o) => o?.id));
    await clock.advance(1_050);
    expect(grants.slice(6).map((g) => g.id)).toEqual([order[1], order[0], order[3]].map((o) => o?.id));
  });

  it("keeps the reserved share for CRITICAL, which bypasses queued callers", async () => {
    const { clock, grants, acquire, limiter } = setup({ limitPerSecond: 10, criticalReserve: 2 });
    for (let i = 0; i < 12; i++) acquire("HIGH");
    await flush();
    expect(grants).toHaveLength(8);
    expect(limiter.stats("candles").queued.HIGH).toBe(4);
    acquire("CRITICAL");
    acquire("CRITICAL");
    await flush();
    expect(grants.map((g) => g.priority).slice(8)).toEqual(["CRITICAL", "CRITICAL"]);
    expect(grants[9]?.at).toBe(clock.t);
    acquire("CRITICAL");
    await flush();
    expect(grants).toHaveLength(10);
    await clock.advance(1_050);
    // The third CRITICAL goes before the four queued HIGH callers.
    expect(grants[10]?.priority).toBe("CRITICAL");
  });

  it("lets CRITICAL use the whole window when nobody else does", async () => {
    const { grants, acquire } = setup({ limitPerSecond: 10, criticalReserve: 2 });
    for (let i = 0; i < 12; i++) acquire("CRITICAL");
    await flush();
    expect(grants).toHaveLength(10);
  });

  it("gives LOW only what is left: never while others wait, never the reserve, not the headroom", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 10, criticalReserve: 2, lowHeadroom: 3 });
    for (let i = 0; i < 10; i++) acquire("LOW");
    await flush();
    expect(grants).toHaveLength(5);
    acquire("NORMAL");
    acquire("NORMAL");
    acquire("NORMAL");
    acquire("NORMAL");
    await flush();
    // NORMAL may fill up to 8; LOW stays queued behind the waiting NORMAL.
    expect(grants.map((g) => g.priority)).toEqual([...Array<string>(5).fill("LOW"), "NORMAL", "NORMAL", "NORMAL"]);
    await clock.advance(1_050);
    expect(grants.slice(8).map((g) => g.priority)).toEqual(["NORMAL", "LOW", "LOW", "LOW", "LOW"]);
  });
});

describe("RateLimiter lending the CRITICAL reserve", () => {
  it("lends the reserve to others while the group has no CRITICAL caller, and holds it again once one comes", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 10, criticalReserve: 2, criticalReserveIdleMs: 60_000 });
    for (let i = 0; i < 12; i++) acquire("LOW");
    await flush();
    // No CRITICAL traffic: LOW may use all 10.
    expect(grants).toHaveLength(10);
    const critical = acquire("CRITICAL");
    await clock.advance(1_050);
    // The CRITICAL caller got the first slot to free, ahead of the two LOW still waiting...
    expect(grants[10]).toMatchObject({ id: critical.id, priority: "CRITICAL" });
    // ...and from then on the reserve is held: LOW fills only 8 of the window.
    for (let i = 0; i < 12; i++) acquire("LOW");
    await clock.advance(1_050);
    const t = grants[10]!.at;
    const window = grants.filter((g) => g.at >= t && g.at < t + 1_050);
    expect(window.filter((g) => g.priority === "LOW")).toHaveLength(7);
  });

  it("lends it out again after criticalReserveIdleMs without CRITICAL callers", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 10, criticalReserve: 2, criticalReserveIdleMs: 5_000 });
    await acquire("CRITICAL").permit;
    await clock.advance(1_050);
    for (let i = 0; i < 10; i++) acquire("LOW");
    await flush();
    expect(grants.filter((g) => g.priority === "LOW")).toHaveLength(8);
    await clock.advance(5_000);
    for (let i = 0; i < 10; i++) acquire("LOW");
    await clock.advance(10);
    const last = grants.filter((g) => g.at >= clock.now() - 10);
    expect(last).toHaveLength(10);
  });
});

describe("RateLimiter aging", () => {
  it("lets a LOW caller that waited lowAgingMs go as NORMAL, so steady NORMAL traffic never starves it", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 3, criticalReserve: 0, lowAgingMs: 5_000 });
    // More NORMAL work than the group can serve, topped up every window.
    for (let i = 0; i < 4; i++) acquire("NORMAL");
    const low = acquire("LOW");
    for (let second = 0; second < 8; second++) {
      for (let i = 0; i < 3; i++) acquire("NORMAL");
      await clock.advance(1_050);
    }
    const lowGrant = grants.find((g) => g.id === low.id);
    expect(lowGrant).toBeDefined();
    // Granted after it aged, ahead of NORMAL callers that came later than it.
    expect(lowGrant!.at - grants[0]!.at).toBeGreaterThanOrEqual(5_000);
    expect(lowGrant!.at - grants[0]!.at).toBeLessThan(7_000);
  });

  it("without aging the same LOW caller would still be waiting", async () => {
    const { clock, grants, acquire } = setup({ limitPerSecond: 3, criticalReserve: 0, lowAgingMs: 60_000 });
    for (let i = 0; i < 4; i++) acquire("NORMAL");
    const low = acquire("LOW");
    for (let second = 0; second < 8; second++) {
      for (let i = 0; i < 3; i++) acquire("NORMAL");
      await clock.advance(1_050);
    }
    expect(grants.find((g) => g.id === low.id)).toBeUndefined();
  });
});

describe("RateLimiter reacting to Upbit", () => {
  it("pauses the group for a full window when Remaining-Req says sec=0 with fewer of its own requests in the window (others share the IP)", async () => {
    const { clock, grants, acquire, limiter } = setup({ limitPerSecond: 10, criticalReserve: 0 });
    const first = await acquire("NORMAL").permit;
    limiter.onReply(first as RatePermit, 0);
    acquire("CRITICAL");
    await flush();
    expect(grants).toHaveLength(1);
    expect(limiter.stats("candles").pausedUntilMs).toBe(clock.t + 1_050);
    await clock.advance(1_049);
    expect(grants).toHaveLength(1);
    await clock.advance(1);
    expect(grants).toHaveLength(2);
  });

  it("does not pause for sec=0 when its own requests filled the window: the slots already hold the next one back", async () => {
    const { clock, grants, acquire, limiter } = setup({ limitPerSecond: 10, criticalReserve: 0 }, { autoRelease: false });
    const permits: RatePermit[] = [];
    for (let i = 0; i < 10; i++) {
      permits.push((await acquire("NORMAL").permit) as RatePermit);
      await clock.advance(50);
    }
    // The first completes at once; the tenth is the last of Upbit's second: sec=0.
    limiter.onReply(permits[0]!, 9);
    const firstDone = clock.t;
    for (const p of permits.slice(1, 9)) limiter.onReply(p, 5);
    limiter.onReply(permits[9]!, 0);
    expect(limiter.stats("candles").pausedUntilMs).toBe(0);
    acquire("NORMAL");
    await flush();
    expect(grants).toHaveLength(10);
    // The first slot comes free one window after its request completed, not one after the sec=0 reply.
    await clock.advance(firstDone + 1_050 - clock.t);
    expect(grants).toHaveLength(11);
  });

  it("does not pause while Remaining-Req has requests left", async () => {
    const { grants, acquire, limiter } = setup({ limitPerSecond: 10, criticalReserve: 0 });
    const first = await acquire("NORMAL").permit;
    limiter.onReply(first as RatePermit, 3);
    acquire("NORMAL");
    await flush();
    expect(grants).toHaveLength(2);
  });

  it("backs the group off exponentially with jitter after 429, escalating only for requests sent after the backoff began", async () => {
    let r = 0;
    const { clock, acquire, limiter, grants } = setup({ limitPerSecond: 10, criticalReserve: 0, rateLimitBackoffBaseMs: 1_000, random: () => r });
    const a = (await acquire("NORMAL").permit) as RatePermit;
    const b = (await acquire("NORMAL").permit) as RatePermit;
    const t0 = clock.t;
    expect(limiter.onRateLimited(a)).toBe(t0 + 1_000);
    // b was in flight already: its 429 confirms the backoff, it does not double it.
    expect(limiter.onRateLimited(b)).toBe(t0 + 1_000);
    acquire("CRITICAL");
    await clock.advance(999);
    expect(grants).toHaveLength(2);
    await clock.advance(1);
    expect(grants).toHaveLength(3);
    const c = grants[2]?.permit as RatePermit;
    r = 0.5;
    const t1 = clock.t;
    // c was sent after the backoff began: 2nd consecutive 429 → 2,000 ms + 25% jitter.
    expect(limiter.onRateLimited(c)).toBe(t1 + 2_000 + 500);
    await clock.advance(2_500);
    const d = (await acquire("NORMAL").permit) as RatePermit;
    limiter.onReply(d, 5);
    // A reply that is not a 429 resets the escalation.
    expect(limiter.onRateLimited(d)).toBe(clock.t + 1_000 + 250);
  });

  it("caps the 429 backoff", async () => {
    const { acquire, limiter, clock } = setup({ limitPerSecond: 10, criticalReserve: 0, rateLimitBackoffBaseMs: 1_000, rateLimitBackoffMaxMs: 4_000 });
    let until = 0;
    for (let i = 0; i < 6; i++) {
      await clock.advance(Math.max(0, until - clock.t));
      const p = (await acquire("NORMAL").permit) as RatePermit;
      until = limiter.onRateLimited(p);
    }
    expect(until - clock.t).toBe(4_000);
  });

  it("stops the group on 418, fails waiters and new callers with the retry time, then recovers", async () => {
    const { clock, acquire, limiter, failures, grants } = setup({ limitPerSecond: 2, criticalReserve: 0, blockDefaultMs: 60_000 });
    const a = (await acquire("NORMAL").permit) as RatePermit;
    await acquire("NORMAL").permit;
    acquire("HIGH");
    acquire("CRITICAL");
    await flush();
    const retryAt = limiter.onBlocked(a, undefined);
    await flush();
    expect(retryAt).toBe(clock.t + 60_000);
    expect(failures).toHaveLength(2);
    for (const f of failures) {
      expect(isUpstreamBlockedError(f.error)).toBe(true);
      expect((f.error as { retryAtMs: number }).retryAtMs).toBe(retryAt);
    }
    await expect(limiter.acquire("candles", "CRITICAL")).rejects.toMatchObject({ name: "UpstreamBlockedError", retryAtMs: retryAt, group: "candles" });
    expect(limiter.blockedUntil("candles")).toBe(retryAt);
    expect(limiter.blockedUntil("ticker")).toBeUndefined();
    // Other groups are not affected.
    await expect(limiter.acquire("ticker", "LOW")).resolves.toMatchObject({ group: "ticker" });
    await clock.advance(60_000);
    expect(limiter.blockedUntil("candles")).toBeUndefined();
    await acquire("NORMAL").permit;
    expect(grants).toHaveLength(3);
  });

  it("grows the assumed block with repeats, uses a stated duration, and does not escalate for requests in flight", async () => {
    const { clock, acquire, limiter } = setup({ limitPerSecond: 10, criticalReserve: 0, blockDefaultMs: 60_000, blockMaxMs: 200_000 });
    const a = (await acquire("NORMAL").permit) as RatePermit;
    const b = (await acquire("NORMAL").permit) as RatePermit;
    expect(limiter.onBlocked(a, undefined) - clock.t).toBe(60_000);
    expect(limiter.onBlocked(b, undefined) - clock.t).toBe(60_000);
    await clock.advance(60_000);
    const c = (await acquire("NORMAL").permit) as RatePermit;
    expect(limiter.onBlocked(c, undefined) - clock.t).toBe(120_000);
    await clock.advance(120_000);
    const d = (await acquire("NORMAL").permit) as RatePermit;
    expect(limiter.onBlocked(d, undefined) - clock.t).toBe(200_000);
    await clock.advance(200_000);
    const e = (await acquire("NORMAL").permit) as RatePermit;
    expect(limiter.onBlocked(e, 15_000) - clock.t).toBe(15_000);
    await clock.advance(15_000);
    const f = (await acquire("NORMAL").permit) as RatePermit;
    limiter.onReply(f, 9);
    const g = (await acquire("NORMAL").permit) as RatePermit;
    // A normal reply in between resets the growth.
    expect(limiter.onBlocked(g, undefined) - clock.t).toBe(60_000);
  });
});

describe("RateLimiter cancellation and shutdown", () => {
  it("removes an aborted waiter, takes no slot for it and keeps the order of the rest", async () => {
    const { clock, acquire, limiter, grants, failures } = setup({ limitPerSecond: 2, criticalReserve: 0 });
    acquire("NORMAL");
    acquire("NORMAL");
    await flush();
    const ac = new AbortController();
    const aborted = acquire("NORMAL", ac.signal);
    const next = acquire("NORMAL");
    const last = acquire("LOW");
    await flush();
    expect(limiter.stats("candles").queued.NORMAL).toBe(2);
    ac.abort(new Error("client went away"));
    await flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.id).toBe(aborted.id);
    expect(isAbortError(failures[0]?.error)).toBe(true);
    expect((failures[0]?.error as Error).cause).toEqual(new Error("client went away"));
    expect(limiter.stats("candles")).toMatchObject({ inWindow: 2, queued: { NORMAL: 1, LOW: 1 } });
    await clock.advance(1_050);
    expect(grants.slice(2).map((g) => g.id)).toEqual([next.id, last.id]);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const { limiter } = setup();
    await expect(limiter.acquire("candles", "NORMAL", AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
    expect(limiter.stats("candles").inWindow).toBe(0);
  });

  it("ignores an abort after the grant", async () => {
    const { limiter } = setup();
    const ac = new AbortController();
    const permit = await limiter.acquire("candles", "NORMAL", ac.signal);
    ac.abort();
    expect(permit.group).toBe("candles");
    expect(limiter.stats("candles").inWindow).toBe(1);
  });

  it("fails waiters and later callers when closed, and leaves no timer behind", async () => {
    const { clock, acquire, limiter, failures } = setup({ limitPerSecond: 1, criticalReserve: 0 });
    acquire("NORMAL");
    acquire("NORMAL");
    await flush();
    expect(clock.pendingTimers()).toBe(1);
    limiter.close();
    await flush();
    expect(failures).toHaveLength(1);
    expect(isUpstreamUnavailableError(failures[0]?.error)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await expect(limiter.acquire("candles", "CRITICAL")).rejects.toMatchObject({ name: "UpstreamUnavailableError" });
  });
});
