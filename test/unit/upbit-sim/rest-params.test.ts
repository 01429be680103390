import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  INVALID_PARAMETER_MESSAGE,
  MISSING_PARAMETER_MESSAGE,
  TYPE_MISMATCH_MESSAGE,
  UpbitRequestError,
  optionalParam,
  parseBooleanParam,
  parseCandleTo,
  parseCodeList,
  parseIntParam,
  parseTradeTo,
  requiredParam,
} from "../../../src/upbit-sim/rest-params.js";

function failure(f: () => unknown): { status: number; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof UpbitRequestError) return { status: e.status, message: e.message };
    throw e;
  }
}

describe("candle `to`", () => {
  const t = Date.UTC(2025, 5, 24, 4, 56, 53);
  it.each([
    "2025-06-24T04:56:53Z",
    "2025-06-24 04:56:53",
    "2025-06-24T04:56:53",
    "2025-06-24T13:56:53+09:00",
    "2025-06-23T23:56:53-05:00",
  ])("reads %s as the same instant", (text) => {
    expect(parseCandleTo(text)).toBe(t);
  });

  it("reads a URL-encoded offset, and refuses an unencoded + (it arrives as a space)", () => {
    expect(parseCandleTo(new URLSearchParams("to=2025-06-24T13%3A56%3A53%2B09%3A00").get("to")!)).toBe(t);
    const unencoded = new URLSearchParams("to=2025-06-24T13:56:53+09:00").get("to")!;
    expect(failure(() => parseCandleTo(unencoded))).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
  });

  it.each(["2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z", "2025-06-24T24:00:00Z", "yesterday", "2025-06-24", "2025-06-24T04:56:53+19:00"])(
    "refuses %s as an invalid parameter",
    (text) => {
      expect(failure(() => parseCandleTo(text))).toEqual({ status: 400, message: INVALID_PARAMETER_MESSAGE });
    },
  );
});

describe("trades `to`", () => {
  it("reads HHmmss and HH:mm:ss as ms into the UTC day", () => {
    expect(parseTradeTo("144059")).toBe(((14 * 60 + 40) * 60 + 59) * 1000);
    expect(parseTradeTo("14:40:59")).toBe(((14 * 60 + 40) * 60 + 59) * 1000);
    expect(failure(() => parseTradeTo("14:4059"))?.status).toBe(400);
    expect(failure(() => parseTradeTo("250000"))?.status).toBe(400);
  });
});

describe("scalar parameters", () => {
  it("reads ints like a Java form binder", () => {
    expect(parseIntParam("200")).toBe(200);
    expect(parseIntParam("+5")).toBe(5);
    expect(parseIntParam("-1")).toBe(-1);
    for (const bad of ["abc", "1.5", " 1", "", "99999999999"]) {
      expect(failure(() => parseIntParam(bad))).toEqual({ status: 400, message: TYPE_MISMATCH_MESSAGE });
    }
  });

  it("reads booleans", () => {
    expect(parseBooleanParam("TRUE")).toBe(true);
    expect(parseBooleanParam("false")).toBe(false);
    expect(failure(() => parseBooleanParam("maybe"))?.message).toBe(TYPE_MISMATCH_MESSAGE);
  });

  it("treats an empty value as absent and prefers the current name over the legacy one", () => {
    const q = new URLSearchParams("count=&is_details=true&isDetails=false");
    expect(optionalParam(q, "count")).toBeUndefined();
    expect(optionalParam(q, "is_details", "isDetails")).toBe("true");
    expect(failure(() => requiredParam(q, "count"))).toEqual({ status: 400, message: MISSING_PARAMETER_MESSAGE });
  });

  it("normalises code lists: upper case, trimmed, empty items and duplicates dropped", () => {
    expect(parseCodeList("krw-btc, KRW-ETH,,KRW-BTC")).toEqual(["KRW-BTC", "KRW-ETH"]);
    expect(failure(() => parseCodeList(" , "))?.message).toBe(MISSING_PARAMETER_MESSAGE);
  });

  it("never throws anything but an Upbit request error", () => {
    const parsers = [parseCandleTo, parseTradeTo, parseIntParam, parseBooleanParam, parseCodeList];
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        for (const parse of parsers) failure(() => parse(text));
      }),
      { numRuns: 300 },
    );
  });
});
