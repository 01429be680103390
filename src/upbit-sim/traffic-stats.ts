/**
 * Per-group request counters for `GET /_sim/stats`, so a test or benchmark can prove a client
 * stayed within Upbit's limits: `max_per_second` is the most requests the limiter accepted in any
 * one fixed 1-second window (over all clients).
 */

export interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

/** What became of one request, as far as the counters care. */
export type TrafficOutcome = "accepted" | "rejected_429" | "other";

const SECOND_MS = 1_000;

export class TrafficStats {
  private readonly groups = new Map<string, GroupTraffic & { windowIndex: number; windowCount: number }>();

  constructor(private readonly groupNames: readonly string[]) {
    this.reset();
  }

  record(group: string, outcome: TrafficOutcome, nowMs: number): void {
    let g = this.groups.get(group);
    if (!g) {
      g = { requests: 0, rejected_429: 0, max_per_second: 0, windowIndex: -1, windowCount: 0 };
      this.groups.set(group, g);
    }
    g.requests++;
    if (outcome === "rejected_429") g.rejected_429++;
    if (outcome !== "accepted") return;
    const index = Math.floor(nowMs / SECOND_MS);
    if (index !== g.windowIndex) {
      g.windowIndex = index;
      g.windowCount = 0;
    }
    g.windowCount++;
    g.max_per_second = Math.max(g.max_per_second, g.windowCount);
  }

  snapshot(): Record<string, GroupTraffic> {
    const out: Record<string, GroupTraffic> = {};
    for (const [name, g] of this.groups) {
      out[name] = { requests: g.requests, rejected_429: g.rejected_429, max_per_second: g.max_per_second };
    }
    return out;
  }

  /** Zeroes every counter; the known groups stay listed with zeros. */
  reset(): void {
    this.groups.clear();
    for (const name of this.groupNames) {
      this.groups.set(name, { requests: 0, rejected_429: 0, max_per_second: 0, windowIndex: -1, windowCount: 0 });
    }
  }
}
