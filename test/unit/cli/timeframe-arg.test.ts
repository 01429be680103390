import { describe, expect, it } from "vitest";
import { parseProtoTimeframeArg, parseTimeframeArg, TIMEFRAME_NAMES } from "../../../src/cli/timeframe-arg.js";
import { UsageError } from "../../../src/cli/usage-error.js";
import { Timeframe } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

describe("parseTimeframeArg", () => {
  it("maps every listed name to its wire timeframe, 1M being a month and 1m a minute", () => {
    const wire = TIMEFRAME_NAMES.split(" ").map((n) => parseProtoTimeframeArg(n));
    expect(wire).toEqual([
      Timeframe.SECOND_1,
      Timeframe.MINUTE_1,
      Timeframe.MINUTE_3,
      Timeframe.MINUTE_5,
      Timeframe.MINUTE_10,
      Timeframe.MINUTE_15,
      Timeframe.MINUTE_30,
      Timeframe.MINUTE_60,
      Timeframe.MINUTE_240,
      Timeframe.DAY,
      Timeframe.WEEK,
      Timeframe.MONTH,
      Timeframe.YEAR,
    ]);
  });

  it("accepts the aliases 1h, 4h and 1mo", () => {
    expect(parseTimeframeArg("1h")).toBe("60m");
    expect(parseTimeframeArg("4h")).toBe("240m");
    expect(parseTimeframeArg("1mo")).toBe("1mo");
  });

  it("refuses anything else with a UsageError naming the argument, the value and the choices", () => {
    for (const bad of ["2m", "1D", "", "minute", "1 m"]) {
      expect(() => parseTimeframeArg(bad)).toThrow(UsageError);
    }
    expect(() => parseTimeframeArg("2m")).toThrow(`TIMEFRAME: "2m" is not a timeframe: expected one of ${TIMEFRAME_NAMES}`);
  });
});
