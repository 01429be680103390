import type { DescEnum, DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";

// The names clients in every language generate stubs from: renaming one breaks them.
const fields = (m: DescMessage) => m.fields.map((f) => f.name);
const values = (e: DescEnum) => e.values.map((v) => v.name);

describe("public contract backbone.marketdata.v1", () => {
  it("has the enums with every value", () => {
    expect(values(pb.PrioritySchema)).toEqual([
      "PRIORITY_UNSPECIFIED", "PRIORITY_CRITICAL", "PRIORITY_HIGH", "PRIORITY_NORMAL", "PRIORITY_LOW",
    ]);
    expect(values(pb.TimeframeSchema)).toEqual([
      "TIMEFRAME_UNSPECIFIED", "TIMEFRAME_SECOND_1", "TIMEFRAME_MINUTE_1", "TIMEFRAME_MINUTE_3", "TIMEFRAME_MINUTE_5",
      "TIMEFRAME_MINUTE_10", "TIMEFRAME_MINUTE_15", "TIMEFRAME_MINUTE_30", "TIMEFRAME_MINUTE_60", "TIMEFRAME_MINUTE_240",
      "TIMEFRAME_DAY", "TIMEFRAME_WEEK", "TIMEFRAME_MONTH", "TIMEFRAME_YEAR",
    ]);
    expect(values(pb.SourceSchema)).toEqual(["SOURCE_UNSPECIFIED", "SOURCE_STORE", "SOURCE_REALTIME_CACHE", "SOURCE_UPSTREAM", "SOURCE_MIXED"]);
    expect(values(pb.PathSchema)).toEqual(["PATH_UNSPECIFIED", "PATH_CRITICAL", "PATH_STANDARD", "PATH_PROTECTED"]);
  });

  it("has the candle messages with every field", () => {
    expect(fields(pb.GetCandlesRequestSchema)).toEqual(["market", "timeframe", "count", "start_ms", "end_ms", "priority", "fill_gaps", "include_forming"]);
    expect(pb.GetCandlesRequestSchema.field.startMs.proto.proto3Optional).toBe(true);
    expect(pb.GetCandlesRequestSchema.field.endMs.proto.proto3Optional).toBe(true);
    expect(fields(pb.GetCandlesResponseSchema)).toEqual(["candles", "meta"]);
    expect(fields(pb.CandleSchema)).toEqual(["time_ms", "open", "high", "low", "close", "volume", "quote_volume", "synthetic", "closed"]);
    expect(fields(pb.ResponseMetaSchema)).toEqual(["source", "upstream_calls", "splits", "server_ms", "priority", "path", "complete", "gaps", "priority_capped"]);
    expect(fields(pb.GapSchema)).toEqual(expect.arrayContaining(["start_ms", "end_ms", "reason"]));
    expect(fields(pb.FetchCandleRangeRequestSchema)).toEqual(expect.arrayContaining(["markets", "timeframe", "start_ms", "end_ms", "priority"]));
    expect(fields(pb.CandleBatchSchema)).toEqual(["market", "time_ms", "open", "high", "low", "close", "volume", "quote_volume", "progress", "meta"]);
    for (const f of pb.CandleBatchSchema.fields.filter((f) => f.fieldKind === "list")) expect(f.packed, f.name).toBe(true);
  });

  it("has snapshot messages keyed by market, requests with markets and priority, answers with meta", () => {
    for (const m of [pb.TickerSchema, pb.OrderbookSchema, pb.TradeSchema, pb.MarketSchema]) expect(fields(m)).toContain("market");
    expect(fields(pb.TradeSchema)).toContain("sequential_id");
    for (const m of [pb.GetTickersRequestSchema, pb.GetOrderbooksRequestSchema, pb.GetTradesRequestSchema]) {
      expect(fields(m)).toEqual(expect.arrayContaining(["markets", "priority"]));
    }
    expect(fields(pb.GetTickersResponseSchema)).toEqual(["tickers", "meta"]);
    expect(fields(pb.GetOrderbooksResponseSchema)).toEqual(["orderbooks", "meta"]);
    expect(fields(pb.GetTradesResponseSchema)).toEqual(["trades", "meta"]);
    expect(fields(pb.ListMarketsResponseSchema)).toEqual(["markets", "meta"]);
  });

  it("carries every field Upbit gives for tickers, order books and trades", () => {
    expect(fields(pb.TickerSchema)).toEqual(expect.arrayContaining([
      "trade_time_ms", "opening_price", "high_price", "low_price", "trade_price", "prev_closing_price", "change",
      "change_price", "change_rate", "signed_change_price", "signed_change_rate", "trade_volume", "acc_trade_price",
      "acc_trade_price_24h", "acc_trade_volume", "acc_trade_volume_24h", "highest_52_week_price", "highest_52_week_date",
      "lowest_52_week_price", "lowest_52_week_date", "timestamp_ms", "ask_bid", "acc_ask_volume", "acc_bid_volume",
      "market_state", "delisting_date", "market_warning", "is_trading_suspended",
    ]));
    expect(fields(pb.OrderbookSchema)).toEqual(["market", "timestamp_ms", "total_ask_size", "total_bid_size", "units", "level"]);
    expect(fields(pb.OrderbookUnitSchema)).toEqual(["ask_price", "ask_size", "bid_price", "bid_size"]);
    expect(fields(pb.TradeSchema)).toEqual(expect.arrayContaining([
      "trade_time_ms", "trade_price", "trade_volume", "ask_bid", "prev_closing_price", "change_price", "change",
      "best_ask_price", "best_ask_size", "best_bid_price", "best_bid_size", "timestamp_ms",
    ]));
    expect(fields(pb.MarketSchema)).toEqual(expect.arrayContaining(["korean_name", "english_name", "market_event"]));
  });
});
