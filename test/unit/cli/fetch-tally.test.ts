import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FetchTally, formatFetchSummary, marketDoneLine } from "../../../src/cli/fetch-tally.js";
import { type CandleBatch, CandleBatchSchema, GapReason, GapSchema, ResponseMetaSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

function batch(market: string, n: number, progress: { done: number; markets: number }, meta?: { calls: number; gaps?: number }): CandleBatch {
  return create(CandleBatchSchema, {
    market,
    timeMs: Array.from({ length: n }, (_, i) => BigInt(i * 60_000)),
    open: new Array<number>(n).fill(1),
    high: new Array<number>(n).fill(1),
    low: new Array<number>(n).fill(1),
    close: new Array<number>(n).fill(1),
    volume: new Array<number>(n).fill(1),
    quoteVolume: new Array<number>(n).fill(1),
    progress: { bucketsDone: BigInt(progress.done), bucketsTotal: 400n, marketsDone: progress.markets, marketsTotal: 2 },
    ...(meta === undefined
      ? {}
      : {
          meta: create(ResponseMetaSchema, {
            upstreamCalls: meta.calls,
            complete: (meta.gaps ?? 0) === 0,
            gaps: Array.from({ length: meta.gaps ?? 0 }, (_, i) =>
              create(GapSchema, { startMs: BigInt(i * 60_000), endMs: BigInt((i + 1) * 60_000), reason: GapReason.UPSTREAM_UNAVAILABLE, detail: "503" }),
            ),
          }),
        }),
  });
}

describe("FetchTally", () => {
  it("counts candles, each market's final meta, and reports a market as it completes", () => {
    const t = new FetchTally(2);
    expect(t.add(batch("KRW-BTC", 150, { done: 150, markets: 0 }))).toBeUndefined();
    const btc = t.add(batch("KRW-BTC", 50, { done: 200, markets: 1 }, { calls: 2 }));
    expect(btc).toMatchObject({ market: "KRW-BTC", candles: 200 });
    expect(marketDoneLine(btc!)).toBe("KRW-BTC: 200 candles, 2 upstream calls, 0 gaps");
    // A market's last batch may hold no candles at all.
    const eth = t.add(batch("KRW-ETH", 0, { done: 400, markets: 2 }, { calls: 1, gaps: 1 }));
    expect(marketDoneLine(eth!)).toBe("KRW-ETH: 0 candles, 1 upstream calls, 1 gap");
    expect(t.candles()).toBe(200);
    expect(t.upstreamCalls()).toBe(3);
    expect(t.gaps().map((g) => g.market)).toEqual(["KRW-ETH"]);
    expect(t.progress()).toEqual({ market: "KRW-ETH", candles: 200, bucketsDone: 400, bucketsTotal: 400, marketsDone: 2, marketsTotal: 2 });
  });

  it("summarises candles, gaps, upstream calls, time and rate, and lists the gaps", () => {
    const t = new FetchTally(1);
    t.add(batch("KRW-BTC", 3000, { done: 400, markets: 1 }, { calls: 15, gaps: 12 }));
    const text = formatFetchSummary({ file: "/tmp/out.parquet", tally: t, elapsedMs: 1500 });
    expect(text).toMatch(/^file\s+\/tmp\/out\.parquet$/m);
    expect(text).toMatch(/^candles\s+3,000$/m);
    expect(text).toMatch(/^gaps\s+12$/m);
    expect(text).toMatch(/^upstream calls\s+15$/m);
    expect(text).toMatch(/^time\s+1\.50 s$/m);
    expect(text).toMatch(/^rate\s+2,000 candles\/s$/m);
    expect(text).toContain("  gap KRW-BTC 1970-01-01T00:00:00.000Z .. 1970-01-01T00:01:00.000Z UPSTREAM_UNAVAILABLE (503)");
    expect(text).toContain("... and 2 more gaps");
  });
});
