import { describe, expect, it } from "vitest";
import type { FetchProgress } from "../../../src/cli/fetch-tally.js";
import { fractionDone, ProgressReporter, progressBar } from "../../../src/cli/progress-reporter.js";

class FakeStderr {
  text = "";
  constructor(readonly isTTY: boolean) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
  lines(): string[] {
    return this.text.split("\n").filter((l) => l !== "");
  }
}

const at = (bucketsDone: number, marketsDone = 0, market = "KRW-BTC"): FetchProgress => ({
  market,
  candles: bucketsDone,
  bucketsDone,
  bucketsTotal: 1000,
  marketsDone,
  marketsTotal: 2,
});

describe("ProgressReporter", () => {
  it("prints plain lines off a terminal: at most one per second, and every market boundary", () => {
    let now = 0;
    const out = new FakeStderr(false);
    const p = new ProgressReporter(out, () => now);
    p.start(at(0));
    p.update(at(100)); // first update: printed
    now = 500;
    p.update(at(200)); // within the second: skipped
    now = 1000;
    p.update(at(300)); // a second later: printed
    p.marketDone("KRW-BTC: 500 candles, 3 upstream calls, 0 gaps", at(500, 1));
    now = 1200;
    p.update(at(600, 1, "KRW-ETH")); // skipped
    p.finish();
    expect(out.lines()).toEqual([
      "progress 10.0% buckets 100/1000 markets 0/2 candles 100 market KRW-BTC elapsed 0.0s",
      "progress 30.0% buckets 300/1000 markets 0/2 candles 300 market KRW-BTC elapsed 1.0s",
      "done KRW-BTC: 500 candles, 3 upstream calls, 0 gaps",
    ]);
    expect(out.text).not.toContain("\r");
  });

  it("redraws one bar in place on a terminal, prints finished markets above it, and clears it at the end", () => {
    let now = 0;
    const out = new FakeStderr(true);
    const p = new ProgressReporter(out, () => now);
    p.start(at(0));
    now = 50;
    p.update(at(100)); // within 100 ms of the last draw: skipped
    now = 200;
    p.update(at(250));
    p.marketDone("KRW-BTC: 500 candles, 3 upstream calls, 0 gaps", at(500, 1));
    p.finish();
    expect(out.text.split("\n")).toHaveLength(2); // the one finished-market line, then the cleared bar
    expect(out.text).toContain("\r\x1b[KKRW-BTC: 500 candles, 3 upstream calls, 0 gaps\n");
    expect(out.text).toContain("25.0%");
    expect(out.text).not.toContain("10.0%");
    expect(out.text.endsWith("\r\x1b[K")).toBe(true);
  });

  it("measures progress by buckets, by markets until buckets are known", () => {
    expect(fractionDone(at(250))).toBe(0.25);
    expect(fractionDone({ ...at(0, 1), bucketsTotal: 0 })).toBe(0.5);
    expect(progressBar(at(500, 1), 2000)).toMatch(/^\[#{12}\.{12}\]\s+50\.0%\s+1\/2 markets\s+KRW-BTC\s+500 candles\s+250\/s\s+ETA 2s$/);
  });
});
