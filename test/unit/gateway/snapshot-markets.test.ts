import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { MAX_MARKETS_PARAM_CHARS, MAX_MARKETS_PER_CALL, splitMarketList } from "../../../src/gateway/snapshots/market-batches.js";
import { coversDepth, orderbookDepth, toDepth } from "../../../src/gateway/snapshots/orderbook-depth.js";
import { MAX_SNAPSHOT_MARKETS, uniqueMarketCodes, uniqueQuoteCurrencies } from "../../../src/gateway/snapshots/requested-markets.js";
import { DEFAULT_MAX_STALENESS_MS, isFresh, maxStalenessMs } from "../../../src/gateway/snapshots/staleness.js";
import { OrderbookSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { answerOf } from "../../support/status-of.js";

const codes = (n: number, prefix = "KRW-M") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("splitMarketList", () => {
  it("cuts at MAX_MARKETS_PER_CALL codes, keeping order", () => {
    const all = codes(250);
    const batches = splitMarketList(all);
    expect(batches.map((b) => b.length)).toEqual([MAX_MARKETS_PER_CALL, MAX_MARKETS_PER_CALL, 50]);
    expect(batches.flat()).toEqual(all);
  });

  it("cuts earlier when the encoded markets value would pass the character budget", () => {
    // 20-character bases: each code is 24 characters, plus 3 for the %2C between codes.
    const long = codes(100, "KRW-AAAAAAAAAAAAAAAAAAA");
    const batches = splitMarketList(long);
    for (const b of batches) expect(b.map(encodeURIComponent).join("%2C").length).toBeLessThanOrEqual(MAX_MARKETS_PARAM_CHARS);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(long);
  });

  it("fills a batch exactly up to the character budget", () => {
    // Four 7-character codes joined by %2C: 4 * 7 + 3 * 3 = 37.
    expect(splitMarketList(["KRW-AAA", "KRW-BBB", "KRW-CCC", "KRW-DDD", "KRW-EEE"], 100, 37)).toEqual([
      ["KRW-AAA", "KRW-BBB", "KRW-CCC", "KRW-DDD"],
      ["KRW-EEE"],
    ]);
  });

  it("gives nothing for nothing, and one batch for one market", () => {
    expect(splitMarketList([])).toEqual([]);
    expect(splitMarketList(["KRW-BTC"])).toEqual([["KRW-BTC"]]);
  });
});

describe("staleness bounds", () => {
  it("uses the priority's default when the request sets none, the request's bound otherwise", () => {
    expect(maxStalenessMs("CRITICAL", 0)).toBe(1_000);
    expect(maxStalenessMs("HIGH", 0)).toBe(2_000);
    expect(maxStalenessMs("NORMAL", 0)).toBe(5_000);
    expect(maxStalenessMs("LOW", 0)).toBe(10_000);
    expect(maxStalenessMs("CRITICAL", 50)).toBe(50);
    expect(maxStalenessMs("LOW", 60_000)).toBe(60_000);
    expect(DEFAULT_MAX_STALENESS_MS.CRITICAL).toBeLessThan(DEFAULT_MAX_STALENESS_MS.LOW);
  });

  it("counts a value exactly at the bound as fresh and one millisecond older as stale", () => {
    expect(isFresh(10_000, 11_000, 1_000)).toBe(true);
    expect(isFresh(10_000, 11_001, 1_000)).toBe(false);
    expect(isFresh(10_000, 10_000, 1)).toBe(true);
  });
});

describe("requested markets", () => {
  it("collapses duplicates to the first occurrence, keeping request order", () => {
    expect(uniqueMarketCodes(["KRW-ETH", "KRW-BTC", "KRW-ETH", "BTC-XRP", "KRW-BTC"])).toEqual([
      { code: "KRW-ETH", field: "markets[0]" },
      { code: "KRW-BTC", field: "markets[1]" },
      { code: "BTC-XRP", field: "markets[3]" },
    ]);
  });

  it("names the malformed entry with its index", () => {
    const lower = answerOf(() => uniqueMarketCodes(["KRW-BTC", "KRW-ETH", "krw-xrp"]));
    expect(lower.code).toBe(status.INVALID_ARGUMENT);
    expect(lower.details).toContain("markets[2]");
    expect(lower.details).toContain('"krw-xrp"');
    expect(answerOf(() => uniqueMarketCodes(["BTCKRW"])).details).toContain("markets[0]");
    expect(answerOf(() => uniqueMarketCodes([""])).details).toContain("markets[0]");
  });

  it("refuses more distinct markets than one request may name", () => {
    const many = answerOf(() => uniqueMarketCodes(codes(MAX_SNAPSHOT_MARKETS + 1)));
    expect(many.code).toBe(status.INVALID_ARGUMENT);
    expect(many.details).toContain("markets");
    // Duplicates do not count.
    expect(uniqueMarketCodes([...codes(MAX_SNAPSHOT_MARKETS), ...codes(10)])).toHaveLength(MAX_SNAPSHOT_MARKETS);
  });

  it("accepts upper-case quote currencies only, naming the bad one", () => {
    expect(uniqueQuoteCurrencies(["KRW", "USDT", "KRW"]).map((q) => q.code)).toEqual(["KRW", "USDT"]);
    const bad = answerOf(() => uniqueQuoteCurrencies(["KRW", "btc"]));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain("quote_currencies[1]");
    expect(answerOf(() => uniqueQuoteCurrencies(["KRW-"])).details).toContain("quote_currencies[0]");
  });
});

describe("orderbook depth", () => {
  it("reads 0 as 30, accepts 1..30 and refuses the rest naming depth", () => {
    expect(orderbookDepth(0)).toBe(30);
    expect(orderbookDepth(1)).toBe(1);
    expect(orderbookDepth(30)).toBe(30);
    for (const bad of [31, 1_000]) {
      const a = answerOf(() => orderbookDepth(bad));
      expect(a.code).toBe(status.INVALID_ARGUMENT);
      expect(a.details).toContain("depth");
    }
  });

  const book = (levels: number, level = 0) =>
    create(OrderbookSchema, {
      market: "KRW-BTC",
      timestampMs: 1n,
      totalAskSize: 99,
      totalBidSize: 99,
      level,
      units: Array.from({ length: levels }, (_, i) => ({ askPrice: 100 + i, askSize: 0.1, bidPrice: 99 - i, bidSize: 0.2 })),
    });

  it("cuts a book to the best levels with totals over those levels only", () => {
    const cut = toDepth(book(30), 3);
    expect(cut.units.map((u) => u.askPrice)).toEqual([100, 101, 102]);
    expect(cut.totalAskSize).toBe(0.3);
    expect(cut.totalBidSize).toBe(0.6);
    // A book within the depth stays as Upbit sent it, totals included.
    expect(toDepth(book(5), 10).totalAskSize).toBe(99);
  });

  it("uses a cached book only when it is native-tick and deep enough", () => {
    expect(coversDepth(book(30), 30)).toBe(true);
    expect(coversDepth(book(30), 5)).toBe(true);
    expect(coversDepth(book(5), 30)).toBe(false);
    expect(coversDepth(book(30, 10_000), 5)).toBe(false);
  });
});
