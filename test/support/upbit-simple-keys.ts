/** DEFAULT → SIMPLE key spelling per API.md §4.4–4.7, written out for tests independently of the parsers and the simulator. */
export const TICKER_KEYS: Record<string, string> = {
  type: "ty", code: "cd", opening_price: "op", high_price: "hp", low_price: "lp", trade_price: "tp",
  prev_closing_price: "pcp", change: "c", change_price: "cp", signed_change_price: "scp", change_rate: "cr",
  signed_change_rate: "scr", trade_volume: "tv", acc_trade_volume: "atv", acc_trade_volume_24h: "atv24h",
  acc_trade_price: "atp", acc_trade_price_24h: "atp24h", trade_date: "tdt", trade_time: "ttm",
  trade_timestamp: "ttms", ask_bid: "ab", acc_ask_volume: "aav", acc_bid_volume: "abv",
  highest_52_week_price: "h52wp", highest_52_week_date: "h52wdt", lowest_52_week_price: "l52wp",
  lowest_52_week_date: "l52wdt", market_state: "ms", is_trading_suspended: "its", delisting_date: "dd",
  market_warning: "mw", timestamp: "tms", stream_type: "st",
};
export const TRADE_KEYS: Record<string, string> = {
  type: "ty", code: "cd", trade_price: "tp", trade_volume: "tv", ask_bid: "ab", prev_closing_price: "pcp",
  change: "c", change_price: "cp", trade_date: "td", trade_time: "ttm", trade_timestamp: "ttms", timestamp: "tms",
  sequential_id: "sid", best_ask_price: "bap", best_ask_size: "bas", best_bid_price: "bbp", best_bid_size: "bbs",
  stream_type: "st",
};
export const ORDERBOOK_KEYS: Record<string, string> = {
  type: "ty", code: "cd", total_ask_size: "tas", total_bid_size: "tbs", orderbook_units: "obu", ask_price: "ap",
  bid_price: "bp", ask_size: "as", bid_size: "bs", timestamp: "tms", level: "lv", stream_type: "st",
};
export const CANDLE_KEYS: Record<string, string> = {
  type: "ty", code: "cd", candle_date_time_utc: "cdttmu", candle_date_time_kst: "cdttmk", opening_price: "op",
  high_price: "hp", low_price: "lp", trade_price: "tp", candle_acc_trade_volume: "catv",
  candle_acc_trade_price: "catp", timestamp: "tms", stream_type: "st",
};

