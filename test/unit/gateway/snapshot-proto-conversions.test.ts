import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AskBid, Change, MarketState } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { isoDate, marketToProto, orderbookToProto, tickerToProto, tradeToProto } from "../../../src/gateway/snapshots/proto-conversions.js";
import { parseMarkets, parseOrderbooks, parseTickers, parseTrades } from "../../../src/gateway/upstream/upbit-rest-parsers.js";
import { parseJsonPreservingLargeIntegers, parseUpbitWebSocketMessage } from "../../../src/gateway/upstream/upbit-websocket-parsers.js";
import { FIXTURES_DIR } from "../../support/fixtures.js";

const fixture = (name: string): string => readFileSync(`${FIXTURES_DIR}/${name}`, "utf8");

describe("tickerToProto", () => {
  it("maps the recorded REST ticker (ticker.json) field by field", () => {
    const [t] = parseTickers(fixture("ticker.json"));
    const p = tickerToProto(t!);
    expect(p.market).toBe("KRW-BTC");
    expect(p.tradeTimeMs).toBe(1773240058930n);
    expect(p.timestampMs).toBe(1773240058973n);
    expect(p.openingPrice).toBe(102_417_000);
    expect(p.highPrice).toBe(103_988_000);
    expect(p.lowPrice).toBe(101_150_000);
    expect(p.tradePrice).toBe(103_493_000);
    expect(p.prevClosingPrice).toBe(102_417_000);
    expect(p.change).toBe(Change.RISE);
    expect(p.changePrice).toBe(1_076_000);
    expect(p.changeRate).toBe(0.0105060683);
    expect(p.signedChangePrice).toBe(1_076_000);
    expect(p.signedChangeRate).toBe(0.0105060683);
    expect(p.tradeVolume).toBe(0.00094678);
    expect(p.accTradePrice).toBe(104890185475.22821);
    expect(p.accTradePrice24h).toBe(162997300132.123);
    expect(p.accTradeVolume).toBe(1024.30599241);
    expect(p.accTradeVolume24h).toBe(1587.73606087);
    expect(p.highest52WeekPrice).toBe(179_869_000);
    expect(p.highest52WeekDate).toBe("2025-10-09");
    expect(p.lowest52WeekPrice).toBe(89_000_000);
    expect(p.lowest52WeekDate).toBe("2026-02-06");
    // Live-feed-only fields stay at their defaults for REST.
    expect(p.askBid).toBe(AskBid.UNSPECIFIED);
    expect(p.marketState).toBe(MarketState.UNSPECIFIED);
    expect(p.accAskVolume).toBe(0);
    expect(p.delistingDate).toBe("");
    expect(p.marketWarning).toBe("");
    expect(p.isTradingSuspended).toBe(false);
  });

  it("maps every row of the recorded KRW universe, FALL and EVEN included", () => {
    const rows = parseTickers(fixture("ticker-all-krw.json"));
    const protos = rows.map(tickerToProto);
    expect(protos).toHaveLength(244);
    const changes = new Set(protos.map((p) => p.change));
    expect(changes).toEqual(new Set([Change.RISE, Change.EVEN, Change.FALL]));
    for (const [i, p] of protos.entries()) {
      expect(p.market).toBe(rows[i]!.market);
      expect(p.change).toBe({ RISE: Change.RISE, EVEN: Change.EVEN, FALL: Change.FALL }[rows[i]!.change]);
      expect(p.highest52WeekDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("carries the live-feed fields of a WebSocket ticker (ws-ticker.json, docs example)", () => {
    const all = parseJsonPreservingLargeIntegers(fixture("ws-ticker.json")) as Record<string, unknown>;
    const message = parseUpbitWebSocketMessage(all["docs_example_default_2023"]);
    if (message.kind !== "ticker") throw new Error(`expected a ticker, got ${message.kind}`);
    const p = tickerToProto(message.ticker);
    expect(p.market).toBe("KRW-BTC");
    expect(p.tradeTimeMs).toBe(1676965262139n);
    expect(p.askBid).toBe(AskBid.ASK);
    expect(p.accAskVolume).toBe(1146.25573608);
    expect(p.accBidVolume).toBe(1283.33260728);
    expect(p.marketState).toBe(MarketState.ACTIVE);
    expect(p.delistingDate).toBe("");
    expect(p.marketWarning).toBe("NONE");
    expect(p.highest52WeekDate).toBe("2022-03-28");
  });

  it("spells compact yyyyMMdd dates as YYYY-MM-DD and leaves ISO dates alone", () => {
    expect(isoDate("20260311")).toBe("2026-03-11");
    expect(isoDate("2026-03-11")).toBe("2026-03-11");
  });
});

describe("orderbookToProto", () => {
  it("maps the recorded 30-level book (orderbook.json), best level first", () => {
    const [b] = parseOrderbooks(fixture("orderbook.json"));
    const p = orderbookToProto(b!);
    expect(p.market).toBe("KRW-BTC");
    expect(p.timestampMs).toBe(1773240059027n);
    expect(p.totalAskSize).toBe(4.17884094);
    expect(p.totalBidSize).toBe(2.29686376);
    expect(p.level).toBe(0);
    expect(p.units).toHaveLength(30);
    expect(p.units[0]).toMatchObject({ askPrice: 103_493_000, askSize: 0.04910155, bidPrice: 103_460_000, bidSize: 0.004 });
    expect(p.units[29]).toMatchObject({ askPrice: 103_599_000, askSize: 0.0559, bidPrice: 103_328_000, bidSize: 0.00241947 });
    for (let i = 1; i < 30; i++) {
      expect(p.units[i]!.askPrice).toBeGreaterThan(p.units[i - 1]!.askPrice);
      expect(p.units[i]!.bidPrice).toBeLessThan(p.units[i - 1]!.bidPrice);
    }
  });

  it("drops Upbit's zero padding of a thin book", () => {
    // The recorded book made thin: bids end after level 25, asks after level 27; Upbit pads both to 30.
    const rows = JSON.parse(fixture("orderbook.json")) as Array<{ orderbook_units: Array<Record<string, number>> }>;
    rows[0]!.orderbook_units.forEach((u, i) => {
      if (i >= 25) Object.assign(u, { bid_price: 0, bid_size: 0 });
      if (i >= 27) Object.assign(u, { ask_price: 0, ask_size: 0 });
    });
    const p = orderbookToProto(parseOrderbooks(JSON.stringify(rows))[0]!);
    expect(p.units).toHaveLength(27);
    expect(p.units.every((u) => u.askPrice > 0)).toBe(true);
    expect(p.units[24]!.bidPrice).toBeGreaterThan(0);
    // A unit whose bid side is padding keeps its real ask; the padded side reads (0, 0).
    expect(p.units[26]).toMatchObject({ bidPrice: 0, bidSize: 0, askPrice: 103_585_000, askSize: 0.02 });
  });
});

describe("tradeToProto", () => {
  it("maps the recorded REST trade (trades-ticks.json) with an exact int64 id and no message time", () => {
    const [t] = parseTrades(fixture("trades-ticks.json"));
    const p = tradeToProto(t!);
    expect(p.market).toBe("KRW-BTC");
    expect(p.sequentialId).toBe(17732400590950000n);
    expect(p.tradeTimeMs).toBe(1773240059095n);
    expect(p.tradePrice).toBe(103_460_000);
    expect(p.tradeVolume).toBe(0.004);
    expect(p.askBid).toBe(AskBid.ASK);
    expect(p.prevClosingPrice).toBe(102_417_000);
    expect(p.changePrice).toBe(1_043_000);
    expect(p.change).toBe(Change.UNSPECIFIED);
    expect(p.bestAskPrice).toBe(0);
    expect(p.timestampMs).toBe(0n);
  });

  it("keeps a sequential id beyond 2^53 exact (ws-trade.json, KRW-ETH ...0006)", () => {
    const all = parseJsonPreservingLargeIntegers(fixture("ws-trade.json")) as Record<string, unknown[]>;
    const message = parseUpbitWebSocketMessage(all["docs_example_default"]![1]);
    if (message.kind !== "trade") throw new Error(`expected a trade, got ${message.kind}`);
    const p = tradeToProto(message.trade);
    expect(p.market).toBe("KRW-ETH");
    expect(p.sequentialId).toBe(17303368620800006n);
    expect(p.askBid).toBe(AskBid.BID);
    expect(p.change).toBe(Change.RISE);
    expect(p.bestAskPrice).toBe(3_700_000);
    expect(p.bestBidSize).toBe(0.13499454);
    expect(p.timestampMs).toBe(1730336862120n);
  });
});

describe("marketToProto", () => {
  it("splits the code and leaves flags off for a row without details (market-all.json, docs tutorial)", () => {
    const rows = (JSON.parse(fixture("market-all.json")) as Record<string, unknown>)["docs_tutorial_first_and_last_rows_no_details"];
    const [btc, polyx] = parseMarkets(JSON.stringify(rows)).map(marketToProto);
    expect(btc).toMatchObject({ market: "KRW-BTC", quoteCurrency: "KRW", baseCurrency: "BTC", koreanName: "비트코인", englishName: "Bitcoin" });
    expect(polyx).toMatchObject({ market: "KRW-POLYX", quoteCurrency: "KRW", baseCurrency: "POLYX", englishName: "Polymesh" });
    expect(btc!.marketEvent).toMatchObject({ warning: false, cautionPriceFluctuations: false, cautionConcentrationOfSmallAccounts: false });
  });

  it("maps the legacy market_warning row and each caution flag of market_event", () => {
    const legacy = (JSON.parse(fixture("market-all.json")) as Record<string, unknown>)["legacy_shape_before_2024_11_20_with_is_details"];
    expect(marketToProto(parseMarkets(JSON.stringify(legacy))[0]!).marketEvent?.warning).toBe(false);
    // The shape Upbit documents for is_details=true (API.md §1.1); no recording of it exists.
    const withEvent = [
      {
        market: "BTC-ETH",
        korean_name: "이더리움",
        english_name: "Ethereum",
        market_event: {
          warning: true,
          caution: {
            PRICE_FLUCTUATIONS: true,
            TRADING_VOLUME_SOARING: false,
            DEPOSIT_AMOUNT_SOARING: true,
            GLOBAL_PRICE_DIFFERENCES: false,
            CONCENTRATION_OF_SMALL_ACCOUNTS: true,
          },
        },
      },
    ];
    const p = marketToProto(parseMarkets(JSON.stringify(withEvent))[0]!);
    expect(p).toMatchObject({ market: "BTC-ETH", quoteCurrency: "BTC", baseCurrency: "ETH" });
    expect(p.marketEvent).toMatchObject({
      warning: true,
      cautionPriceFluctuations: true,
      cautionTradingVolumeSoaring: false,
      cautionDepositAmountSoaring: true,
      cautionGlobalPriceDifferences: false,
      cautionConcentrationOfSmallAccounts: true,
    });
  });
});
