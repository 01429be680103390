import { describe, expect, it } from "vitest";
import { isMarketCode } from "../../../src/shared/market-code.js";
import { buildMarketUniverse, tickSizeFor } from "../../../src/upbit-sim/market-universe.js";

const NOW = Date.UTC(2026, 2, 11, 14, 40, 12, 345);
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/** Whether `price` is a whole number of `tick`s (decimal ticks compared in tick units). */
function onTick(price: number, tick: number): boolean {
  const units = price / tick;
  return Math.abs(units - Math.round(units)) < 1e-6;
}

describe("buildMarketUniverse", () => {
  const markets = buildMarketUniverse({ seed: 42, nowMs: NOW });

  it("lists 200 KRW, 40 BTC and 20 USDT pairs by default, with unique valid codes", () => {
    const byQuote = (q: string) => markets.filter((m) => m.quote === q).length;
    expect([byQuote("KRW"), byQuote("BTC"), byQuote("USDT")]).toEqual([200, 40, 20]);
    expect(new Set(markets.map((m) => m.code)).size).toBe(markets.length);
    for (const m of markets) {
      expect(isMarketCode(m.code), m.code).toBe(true);
      expect(m.code).toBe(`${m.quote}-${m.base}`);
      expect(m.koreanName.length).toBeGreaterThan(0);
      expect(m.englishName.length).toBeGreaterThan(0);
    }
    expect(markets.some((m) => m.code === "BTC-BTC" || m.code === "USDT-USDT")).toBe(false);
  });

  it("takes real codes, busiest first, and real names for the majors", () => {
    expect(markets.slice(0, 4).map((m) => m.code)).toEqual(["KRW-XRP", "KRW-BTC", "KRW-ICP", "KRW-ETH"]);
    const btc = markets.find((m) => m.code === "KRW-BTC")!;
    expect([btc.koreanName, btc.englishName]).toEqual(["비트코인", "Bitcoin"]);
    expect(markets.find((m) => m.code === "KRW-XRP")!.englishName).toBe("Ripple");
    expect(markets.some((m) => m.code === "BTC-ETH")).toBe(true);
    expect(markets.some((m) => m.code === "USDT-BTC")).toBe(true);
  });

  it("is a pure function of the seed and the day of nowMs", () => {
    expect(buildMarketUniverse({ seed: 42, nowMs: NOW })).toEqual(markets);
    expect(buildMarketUniverse({ seed: 42, nowMs: Date.UTC(2026, 2, 11, 23, 59) })).toEqual(markets);
    const other = buildMarketUniverse({ seed: 43, nowMs: NOW });
    expect(other.map((m) => m.code)).toEqual(markets.map((m) => m.code));
    expect(other.map((m) => m.listedAtMs)).not.toEqual(markets.map((m) => m.listedAtMs));
  });

  it("gives realistic price levels on Upbit's ticks", () => {
    const byCode = new Map(markets.map((m) => [m.code, m]));
    expect(byCode.get("KRW-BTC")!.referencePrice).toBeGreaterThan(5e7);
    expect(byCode.get("KRW-BTC")!.tickSize).toBe(1000);
    expect(byCode.get("KRW-XRP")!.tickSize).toBe(1);
    expect(byCode.get("KRW-BTC")!.supportedLevels).toEqual(["0", "10000", "100000", "1000000", "10000000", "100000000"]);
    expect(byCode.get("USDT-BTC")!.tickSize).toBe(0.01);
    expect(byCode.get("BTC-ETH")!.referencePrice).toBeGreaterThan(0.001);
    expect(byCode.get("BTC-ETH")!.referencePrice).toBeLessThan(0.1);
    for (const m of markets) {
      expect(m.referencePrice, m.code).toBeGreaterThan(0);
      expect(m.tickSize).toBe(tickSizeFor(m.quote, m.referencePrice));
      expect(onTick(m.referencePrice, m.tickSize), m.code).toBe(true);
      if (m.quote === "BTC") expect(m.tickSize).toBe(0.00000001);
      if (m.quote !== "KRW") expect(m.supportedLevels).toEqual(["0"]);
      if (m.quote === "KRW") expect(m.supportedLevels[0]).toBe("0");
    }
  });

  it("uses Upbit's KRW price bands and decimal USDT ticks", () => {
    const krw: Array<[number, number]> = [
      [2_000_000, 1000], [1_000_000, 1000], [999_999, 500], [500_000, 500], [100_000, 100], [50_000, 50],
      [10_000, 10], [5_000, 5], [4_999, 1], [100, 1], [58.3, 0.1], [3.08, 0.01], [0.878, 0.001],
      [0.0104, 0.0001], [0.00854, 0.00001], [0.000482, 0.000001],
    ];
    for (const [price, tick] of krw) expect(tickSizeFor("KRW", price), String(price)).toBe(tick);
    expect(tickSizeFor("USDT", 70_000)).toBe(0.01);
    expect(tickSizeFor("USDT", 10)).toBe(0.01);
    expect(tickSizeFor("USDT", 2.5)).toBe(0.001);
    expect(tickSizeFor("USDT", 0.5)).toBe(0.0001);
  });

  it("makes liquidity fall with rank: ~30 trades/min at the top, well under 1 in the tail", () => {
    const krw = markets.filter((m) => m.quote === "KRW");
    expect(krw[0]!.tradesPerMinute).toBeGreaterThan(20);
    expect(krw[0]!.tradesPerMinute).toBeLessThanOrEqual(30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const decile = (i: number) => mean(krw.slice(i * 20, i * 20 + 20).map((m) => m.tradesPerMinute));
    for (let i = 1; i < 10; i++) expect(decile(i)).toBeLessThan(decile(i - 1));
    for (const m of krw.slice(150)) expect(m.tradesPerMinute).toBeLessThan(0.5);
  });

  it("lists most markets 3+ years ago and a few within the last 30-200 days", () => {
    const ages = markets.map((m) => (NOW - m.listedAtMs) / DAY_MS);
    const recent = ages.filter((a) => a < 3 * 365);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(markets.length / 8);
    for (const a of recent) {
      expect(a).toBeGreaterThanOrEqual(30);
      expect(a).toBeLessThanOrEqual(201);
    }
    for (const m of markets.slice(0, 10)) expect(NOW - m.listedAtMs).toBeGreaterThanOrEqual(3 * YEAR_MS);
  });

  it("flags a few markets with warning and caution", () => {
    const warned = markets.filter((m) => m.warning).length;
    const cautioned = markets.filter((m) => Object.values(m.caution).some(Boolean)).length;
    expect(warned).toBeGreaterThan(0);
    expect(warned).toBeLessThan(markets.length / 10);
    expect(cautioned).toBeGreaterThan(0);
    expect(cautioned).toBeLessThan(markets.length / 2);
  });

  it("adds synthetic bases beyond the 244 recorded ones, and honours the counts", () => {
    const big = buildMarketUniverse({ seed: 1, nowMs: NOW, krwMarkets: 300, btcMarkets: 0, usdtMarkets: 2 });
    expect(big).toHaveLength(302);
    const synthetic = big.filter((m) => m.base.startsWith("SIM"));
    expect(synthetic).toHaveLength(56);
    for (const m of synthetic) {
      expect(isMarketCode(m.code)).toBe(true);
      expect(m.referencePrice).toBeGreaterThanOrEqual(1);
      expect(m.referencePrice).toBeLessThanOrEqual(5000);
    }
    expect(() => buildMarketUniverse({ seed: 1, nowMs: NOW, krwMarkets: -1 })).toThrow(RangeError);
  });
});
