import { describe, expect, it } from "vitest";
import { RecentProblems } from "../../../src/gateway/observability/recent-problems.js";
import type { ProblemLine } from "../../../src/shared/logger.js";

const line = (n: number, fields: Record<string, unknown> = {}): ProblemLine => ({ time: new Date(n * 1_000).toISOString(), level: n % 2 ? "warn" : "error", component: "gateway", message: `problem ${n}`, fields });

describe("RecentProblems", () => {
  it("lists what it holds newest first", () => {
    const p = new RecentProblems(5);
    for (let n = 1; n <= 3; n++) p.add(line(n));
    expect(p.list().map((l) => l.message)).toEqual(["problem 3", "problem 2", "problem 1"]);
    expect(p.count).toBe(3);
  });

  it("keeps only the newest `capacity` lines, counting all", () => {
    const p = new RecentProblems(20);
    for (let n = 1; n <= 47; n++) p.add(line(n));
    const listed = p.list().map((l) => l.message);
    expect(listed).toHaveLength(20);
    expect(listed[0]).toBe("problem 47");
    expect(listed[19]).toBe("problem 28");
    expect(p.count).toBe(47);
  });

  it("clips long texts and flattens structured fields to short strings", () => {
    const p = new RecentProblems(2);
    p.add(line(1, { error: "x".repeat(10_000), attempts: 3, nested: { a: [1, 2] }, big: 12n }));
    const [held] = p.list();
    expect((held!.fields.error as string).length).toBeLessThanOrEqual(501);
    expect(held!.fields).toMatchObject({ attempts: 3, nested: '{"a":[1,2]}', big: "12" });
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new RecentProblems(0)).toThrow(RangeError);
  });
});
