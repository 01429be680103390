import { Timeframe as ProtoTimeframe } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "./errors.js";

/** A candle bucket length, in the short form used in logs, the store and the CLI. */
export type Timeframe =
  | "1s" | "1m" | "3m" | "5m" | "10m" | "15m" | "30m" | "60m" | "240m"
  | "1d" | "1w" | "1mo" | "1y";

/** Every timeframe, shortest first. */
export const TIMEFRAMES: readonly Timeframe[] = [
  "1s", "1m", "3m", "5m", "10m", "15m", "30m", "60m", "240m", "1d", "1w", "1mo", "1y",
];

const FROM_PROTO: ReadonlyMap<ProtoTimeframe, Timeframe> = new Map([
  [ProtoTimeframe.SECOND_1, "1s"],
  [ProtoTimeframe.MINUTE_1, "1m"],
  [ProtoTimeframe.MINUTE_3, "3m"],
  [ProtoTimeframe.MINUTE_5, "5m"],
  [ProtoTimeframe.MINUTE_10, "10m"],
  [ProtoTimeframe.MINUTE_15, "15m"],
  [ProtoTimeframe.MINUTE_30, "30m"],
  [ProtoTimeframe.MINUTE_60, "60m"],
  [ProtoTimeframe.MINUTE_240, "240m"],
  [ProtoTimeframe.DAY, "1d"],
  [ProtoTimeframe.WEEK, "1w"],
  [ProtoTimeframe.MONTH, "1mo"],
  [ProtoTimeframe.YEAR, "1y"],
]);
const TO_PROTO: ReadonlyMap<Timeframe, ProtoTimeframe> = new Map(
  [...FROM_PROTO].map(([proto, tf]) => [tf, proto]),
);

/** The domain timeframe of a wire enum value; INVALID_ARGUMENT naming `field` otherwise. */
export function timeframeFromProto(value: ProtoTimeframe, field = "timeframe"): Timeframe {
  const tf = FROM_PROTO.get(value);
  if (tf === undefined) {
    const name = ProtoTimeframe[value] as string | undefined;
    throw new InvalidArgumentError(
      field,
      name === undefined ? String(value) : `TIMEFRAME_${name}`,
      "must be one of TIMEFRAME_SECOND_1 .. TIMEFRAME_YEAR",
    );
  }
  return tf;
}

export function timeframeToProto(tf: Timeframe): ProtoTimeframe {
  const value = TO_PROTO.get(tf);
  if (value === undefined) throw new Error(`no wire value for timeframe ${tf}`);
  return value;
}

export function isTimeframe(value: string): value is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(value);
}
