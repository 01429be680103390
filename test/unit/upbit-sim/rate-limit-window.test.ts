import { describe, expect, it } from "vitest";
import { type Admission, QuotationRateLimiter, type RateLimitPolicy } from "../../../src/upbit-sim/rate-limit-window.js";

const T = Date.UTC(2026, 2, 11, 14, 40, 59);
const CANDLES: RateLimitPolicy = { limit: 10, windowMs: 1_000, minHeaderValue: 600 };
const ORIGIN: RateLimitPolicy = { limit: 1, windowMs: 10_000, minHeaderValue: 6 };

function limiter() {
  const clock = { ms: T };
  const rl = new QuotationRateLimiter({
    now: () => clock.ms,
    policies: new Map([["candles", CANDLES], ["ticker", CANDLES], ["origin", ORIGIN]]),
  });
  return { clock, rl };
}

const remaining = (a: Admission): number | string => (a.kind === "accepted" ? a.remaining : a.kind);

describe("QuotationRateLimiter", () => {
  it("accepts the limit per fixed second, counting down, then refuses until the next second", () => {
    const { clock, rl } = limiter();
    const seen = Array.from({ length: 11 }, () => remaining(rl.admit("1.1.1.1", "candles")));
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, "limited"]);
    clock.ms = T + 999;
    expect(rl.admit("1.1.1.1", "candles").kind).toBe("limited");
    clock.ms = T + 1_000;
    expect(remaining(rl.admit("1.1.1.1", "candles"))).toBe(9);
  });

  it("keeps separate budgets per group and per client IP", () => {
    const { rl } = limiter();
    for (let i = 0; i < 10; i++) rl.admit("1.1.1.1", "candles");
    expect(remaining(rl.admit("1.1.1.1", "ticker"))).toBe(9);
    expect(remaining(rl.admit("2.2.2.2", "candles"))).toBe(9);
  });

  it("allows one Origin request per 10-second window", () => {
    const { clock, rl } = limiter();
    expect(remaining(rl.admit("1.1.1.1", "origin"))).toBe(0);
    clock.ms = T + 500;
    expect(rl.admit("1.1.1.1", "origin").kind).toBe("limited");
    clock.ms = Math.ceil((T + 1) / 10_000) * 10_000;
    expect(remaining(rl.admit("1.1.1.1", "origin"))).toBe(0);
  });

  it("blocks a client that keeps sending after a 429, longer on each repeat, across groups", () => {
    const { clock, rl } = limiter();
    for (let i = 0; i < 10; i++) rl.admit("1.1.1.1", "candles");
    const refused = Array.from({ length: 7 }, () => rl.admit("1.1.1.1", "candles"));
    expect(refused.slice(0, 6).map((a) => a.kind)).toEqual(Array(6).fill("limited"));
    expect(refused[6]).toEqual({ kind: "blocked", blockSeconds: 10 });
    clock.ms += 4_500;
    expect(rl.admit("1.1.1.1", "ticker")).toEqual({ kind: "blocked", blockSeconds: 6 });
    expect(rl.admit("2.2.2.2", "ticker").kind).toBe("accepted");

    clock.ms = T + 20_000;
    expect(rl.admit("1.1.1.1", "candles").kind).toBe("accepted");
    for (let i = 0; i < 9; i++) rl.admit("1.1.1.1", "candles");
    for (let i = 0; i < 6; i++) expect(rl.admit("1.1.1.1", "candles").kind).toBe("limited");
    expect(rl.admit("1.1.1.1", "candles")).toEqual({ kind: "blocked", blockSeconds: 20 });
  });

  it("does not block a client whose refusals are spread out", () => {
    const { clock, rl } = limiter();
    for (let second = 0; second < 20; second++) {
      clock.ms = T + second * 1_000;
      for (let i = 0; i < 10; i++) rl.admit("1.1.1.1", "candles");
      expect(rl.admit("1.1.1.1", "candles").kind).toBe("limited");
    }
  });

  it("forgets everything on reset", () => {
    const { rl } = limiter();
    for (let i = 0; i < 17; i++) rl.admit("1.1.1.1", "candles");
    expect(rl.admit("1.1.1.1", "candles").kind).toBe("blocked");
    rl.reset();
    expect(remaining(rl.admit("1.1.1.1", "candles"))).toBe(9);
  });
});
