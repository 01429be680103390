/**
 * Copies of the recorded / documented Upbit WebSocket frames from `upbit/fixtures/ws-*.json`
 * (provenance in that folder's README.md), kept here so tests do not depend on a path outside
 * the repository; `ws-frames.test.ts` checks they still match the originals when those exist.
 * Parsed with JSON.parse, so only keys and JSON types are meaningful (sequential ids round).
 */

/** `ws-ticker.json` → `docs_example_default_2023`. */
export const WS_TICKER_DEFAULT = JSON.parse(
  '{"type":"ticker","code":"KRW-BTC","opening_price":31883000,"high_price":32310000,"low_price":31855000,"trade_price":32287000,"prev_closing_price":31883000.00000000,"acc_trade_price":78039261076.51241000,"change":"RISE","change_price":404000.00000000,"signed_change_price":404000.00000000,"change_rate":0.0126713295,"signed_change_rate":0.0126713295,"ask_bid":"ASK","trade_volume":0.03103806,"acc_trade_volume":2429.58834336,"trade_date":"20230221","trade_time":"074102","trade_timestamp":1676965262139,"acc_ask_volume":1146.25573608,"acc_bid_volume":1283.33260728,"highest_52_week_price":57678000.00000000,"highest_52_week_date":"2022-03-28","lowest_52_week_price":20700000.00000000,"lowest_52_week_date":"2022-12-30","market_state":"ACTIVE","is_trading_suspended":false,"delisting_date":null,"market_warning":"NONE","timestamp":1676965262177,"acc_trade_price_24h":228827082483.70729000,"acc_trade_volume_24h":7158.80283560,"stream_type":"REALTIME"}',
) as Record<string, unknown>;

/** `ws-trade.json` → `docs_example_default[0]`. */
export const WS_TRADE_DEFAULT = JSON.parse(
  '{"type":"trade","code":"KRW-BTC","timestamp":1730336862082,"trade_date":"2024-10-31","trade_time":"01:07:42","trade_timestamp":1730336862047,"trade_price":100473000.00000000,"trade_volume":0.00014208,"ask_bid":"BID","prev_closing_price":100571000.00000000,"change":"FALL","change_price":98000.00000000,"sequential_id":17303368620470000,"best_ask_price":100473000,"best_ask_size":0.43139478,"best_bid_price":100465000,"best_bid_size":0.01990656,"stream_type":"SNAPSHOT"}',
) as Record<string, unknown>;

/** `ws-orderbook.json` → `recorded_2026_09_23.default_snapshot_trimmed_to_2_units`. */
export const WS_ORDERBOOK_DEFAULT = JSON.parse(
  '{"type":"orderbook","code":"KRW-BTC","timestamp":1790134742106,"total_ask_size":2.51469375,"total_bid_size":1.63815297,"orderbook_units":[{"ask_price":1.16539E8,"bid_price":1.16538E8,"ask_size":0.02054761,"bid_size":0.08120946},{"ask_price":1.16542E8,"bid_price":1.16537E8,"ask_size":0.00077720,"bid_size":0.01129382}],"stream_type":"SNAPSHOT","level":0}',
) as Record<string, unknown>;

/** `ws-orderbook.json` → `recorded_2026_09_23.simple_snapshot_trimmed_to_2_units`. */
export const WS_ORDERBOOK_SIMPLE = JSON.parse(
  '{"ty":"orderbook","cd":"KRW-BTC","tms":1790134773006,"tas":0.48514983,"tbs":2.2403413,"obu":[{"ap":116606000,"bp":116534000,"as":0.06288509,"bs":7.9276E-4},{"ap":116609000,"bp":116521000,"as":5.0E-4,"bs":0.01624318}],"st":"SNAPSHOT","lv":0}',
) as Record<string, unknown>;

/** `ws-control.json` → `docs_list_subscriptions_response`. */
export const WS_LIST_SUBSCRIPTIONS_RESPONSE = JSON.parse(
  '{"method":"LIST_SUBSCRIPTIONS","result":[{"type":"ticker","codes":["KRW-BTC","KRW-ETH"]},{"type":"orderbook","codes":["KRW-BTC","KRW-ETH"],"level":0}],"ticket":"unique uuid"}',
) as Record<string, unknown>;

/** `ws-control.json` → `recorded_error_frames_2026_09_23[*].received`, and the keepalive reply. */
export const WS_ERROR_NO_TICKET = { error: { name: "NO_TICKET", message: "티켓이 존재하지 않거나, 유효하지 않습니다." } };
export const WS_ERROR_INVALID_PARAM = { error: { message: "nope 은 지원하지 않는 타입입니다.", name: "INVALID_PARAM" } };
export const WS_ERROR_WRONG_FORMAT = { error: { message: "Format 이 맞지 않습니다.", name: "WRONG_FORMAT" } };
export const WS_STATUS_UP = { status: "UP" };

/** SIMPLE keys per message type, transcribed from API.md §4.4–4.7 (independently of the code). */
export const SIMPLE_TICKER_KEYS = [
  "ty", "cd", "op", "hp", "lp", "tp", "pcp", "c", "cp", "scp", "cr", "scr", "tv", "atv", "atv24h", "atp", "atp24h",
  "tdt", "ttm", "ttms", "ab", "aav", "abv", "h52wp", "h52wdt", "l52wp", "l52wdt", "ms", "its", "dd", "mw", "tms", "st",
];
export const SIMPLE_TRADE_KEYS = [
  "ty", "cd", "tp", "tv", "ab", "pcp", "c", "cp", "td", "ttm", "ttms", "tms", "sid", "bap", "bas", "bbp", "bbs", "st",
];
export const DEFAULT_CANDLE_KEYS = [
  "type", "code", "candle_date_time_utc", "candle_date_time_kst", "opening_price", "high_price", "low_price",
  "trade_price", "candle_acc_trade_volume", "candle_acc_trade_price", "timestamp", "stream_type",
];
export const SIMPLE_CANDLE_KEYS = ["ty", "cd", "cdttmu", "cdttmk", "op", "hp", "lp", "tp", "catv", "catp", "tms", "st"];

/** JSON type of a value as the wire shows it (`null` distinct from object). */
export function jsonType(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Key → JSON type, for comparing a message's shape with a fixture's. */
export function shapeOf(o: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonType(v)]));
}
