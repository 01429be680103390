import type { Timeframe as ProtoTimeframe } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { type Timeframe, timeframeToProto } from "../shared/timeframe.js";
import { badOptionValue } from "./usage-error.js";

/**
 * The CLI's spelling of each timeframe. `1M` is a month as in most charting tools (`1m` is a
 * minute); `1mo` (the store's spelling), `1h` and `4h` are accepted as aliases.
 */
const CLI_TIMEFRAMES: ReadonlyMap<string, Timeframe> = new Map([
  ["1s", "1s"],
  ["1m", "1m"],
  ["3m", "3m"],
  ["5m", "5m"],
  ["10m", "10m"],
  ["15m", "15m"],
  ["30m", "30m"],
  ["60m", "60m"],
  ["1h", "60m"],
  ["240m", "240m"],
  ["4h", "240m"],
  ["1d", "1d"],
  ["1w", "1w"],
  ["1M", "1mo"],
  ["1mo", "1mo"],
  ["1y", "1y"],
]);

/** The names listed in help and error messages (aliases left out). */
export const TIMEFRAME_NAMES = "1s 1m 3m 5m 10m 15m 30m 60m 240m 1d 1w 1M 1y";

/** The domain timeframe `value` names; a UsageError naming `argument` otherwise. */
export function parseTimeframeArg(value: string, argument = "TIMEFRAME"): Timeframe {
  const tf = CLI_TIMEFRAMES.get(value.trim());
  if (tf === undefined) throw badOptionValue(argument, value, `is not a timeframe: expected one of ${TIMEFRAME_NAMES}`);
  return tf;
}

/** The wire timeframe `value` names; a UsageError naming `argument` otherwise. */
export function parseProtoTimeframeArg(value: string, argument = "TIMEFRAME"): ProtoTimeframe {
  return timeframeToProto(parseTimeframeArg(value, argument));
}
