import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseOrderbookCode,
  parseRequestFrame,
  WsRequestError,
  type WsErrorName,
} from "../../../src/upbit-sim/ws-request-frame.js";

function errorOf(text: string): { name: WsErrorName; message: string } {
  try {
    parseRequestFrame(text);
  } catch (e) {
    if (e instanceof WsRequestError) return { name: e.errorName, message: e.message };
    throw e;
  }
  throw new Error(`accepted: ${text}`);
}

describe("parseRequestFrame", () => {
  it("reads the documented request (ticket, type objects, format)", () => {
    const r = parseRequestFrame(
      JSON.stringify([
        { ticket: "t-1" },
        { type: "ticker", codes: ["KRW-BTC", "KRW-ETH", "KRW-BTC"], is_only_realtime: true },
        { type: "orderbook", codes: ["KRW-BTC.15"], level: 10000 },
        { type: "candle.1s", codes: ["KRW-BTC"], isOnlySnapshot: true },
        { format: "SIMPLE" },
      ]),
    );
    expect(r).toEqual({
      kind: "subscribe",
      ticket: "t-1",
      format: "SIMPLE",
      types: [
        { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"], isOnlySnapshot: false, isOnlyRealtime: true, level: 0 },
        { type: "orderbook", codes: ["KRW-BTC.15"], isOnlySnapshot: false, isOnlyRealtime: false, level: 10000 },
        { type: "candle.1s", codes: ["KRW-BTC"], isOnlySnapshot: true, isOnlyRealtime: false, level: 0 },
      ],
    });
  });

  it("leaves the format undefined without a format object and accepts every documented format", () => {
    const base = [{ ticket: "x" }, { type: "trade", codes: ["KRW-BTC"] }];
    expect(parseRequestFrame(JSON.stringify(base)).format).toBeUndefined();
    for (const f of ["DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST"]) {
      expect(parseRequestFrame(JSON.stringify([...base, { format: f }])).format).toBe(f);
    }
  });

  it("recognises LIST_SUBSCRIPTIONS (docs example)", () => {
    expect(
      parseRequestFrame('[{"ticket":"0e66c0ac-7e13-43ef-91fb-2a87c2956c49"},{"method":"LIST_SUBSCRIPTIONS"}]'),
    ).toEqual({ kind: "list-subscriptions", ticket: "0e66c0ac-7e13-43ef-91fb-2a87c2956c49", format: undefined });
  });

  it("names errors like Upbit, with the recorded messages", () => {
    expect(errorOf("hello")).toEqual({ name: "WRONG_FORMAT", message: "Format 이 맞지 않습니다." });
    expect(errorOf('{"ticket":"x"}').name).toBe("WRONG_FORMAT");
    expect(errorOf("[]").name).toBe("WRONG_FORMAT");
    expect(errorOf('[{"ticket":"x"}, 5]').name).toBe("WRONG_FORMAT");
    expect(errorOf('[{"type":"ticker","codes":["KRW-BTC"]}]')).toEqual({
      name: "NO_TICKET",
      message: "티켓이 존재하지 않거나, 유효하지 않습니다.",
    });
    expect(errorOf('[{"ticket":""},{"type":"ticker","codes":["KRW-BTC"]}]').name).toBe("NO_TICKET");
    expect(errorOf('[{"ticket":"x"},{"type":"nope","codes":["KRW-BTC"]}]')).toEqual({
      name: "INVALID_PARAM",
      message: "nope 은 지원하지 않는 타입입니다.",
    });
    expect(errorOf('[{"ticket":"x"}]').name).toBe("NO_TYPE");
    expect(errorOf('[{"ticket":"x"},{"format":"DEFAULT"}]').name).toBe("NO_TYPE");
    expect(errorOf('[{"ticket":"x"},{"type":"ticker"}]').name).toBe("NO_CODES");
    expect(errorOf('[{"ticket":"x"},{"type":"ticker","codes":[]}]').name).toBe("NO_CODES");
    expect(errorOf('[{"ticket":"x"},{"type":"ticker","codes":"KRW-BTC"}]').name).toBe("NO_CODES");
    expect(errorOf('[{"ticket":"x"},{"type":"ticker","codes":["KRW-BTC"]},{"format":"XML"}]').name).toBe("INVALID_PARAM");
    expect(errorOf('[{"ticket":"x"},{"type":"ticker","codes":["KRW-BTC"],"is_only_snapshot":"yes"}]').name).toBe(
      "INVALID_PARAM",
    );
    expect(errorOf('[{"ticket":"x"},{"type":"orderbook","codes":["KRW-BTC"],"level":"abc"}]').name).toBe(
      "INVALID_PARAM",
    );
    expect(errorOf('[{"ticket":"x"},{"method":"SUBSCRIBE_ALL"}]').name).toBe("INVALID_PARAM");
  });

  it("never throws anything but WsRequestError, whatever the text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          parseRequestFrame(text);
        } catch (e) {
          expect(e).toBeInstanceOf(WsRequestError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseOrderbookCode", () => {
  it("takes N in {1, 5, 15, 30} and falls back to 30 otherwise", () => {
    expect(parseOrderbookCode("KRW-BTC")).toEqual({ market: "KRW-BTC", depth: 30 });
    for (const n of [1, 5, 15, 30]) expect(parseOrderbookCode(`KRW-BTC.${n}`)).toEqual({ market: "KRW-BTC", depth: n });
    for (const n of ["2", "20", "0", "31", "x", ""]) {
      expect(parseOrderbookCode(`KRW-ETH.${n}`)).toEqual({ market: "KRW-ETH", depth: 30 });
    }
  });
});
