import { create, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { encodeOnce, sharedMessages } from "../../../src/gateway/realtime/shared-messages.js";
import { StreamTickersResponseSchema, TickerSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

describe("shared fan-out messages", () => {
  const message = sharedMessages(StreamTickersResponseSchema, (ticker: ReturnType<typeof create<typeof TickerSchema>>, snapshot) => ({ ticker, snapshot }));

  it("gives every subscriber of one update the same message object, one per snapshot flag", () => {
    const ticker = create(TickerSchema, { market: "KRW-BTC", tradePrice: 1 });
    expect(message(ticker, false)).toBe(message(ticker, false));
    expect(message(ticker, true)).toBe(message(ticker, true));
    expect(message(ticker, true)).not.toBe(message(ticker, false));
    expect(message(ticker, true).snapshot).toBe(true);
    expect(message(create(TickerSchema, { market: "KRW-BTC", tradePrice: 1 }), false)).not.toBe(message(ticker, false));
  });

  it("encodes a message object once, and the bytes decode to it", () => {
    const encode = encodeOnce(StreamTickersResponseSchema);
    const m = message(create(TickerSchema, { market: "KRW-ETH", tradePrice: 2 }), true);
    const bytes = encode(m);
    expect(encode(m)).toBe(bytes);
    const decoded = fromBinary(StreamTickersResponseSchema, bytes);
    expect(decoded.ticker?.market).toBe("KRW-ETH");
    expect(decoded.snapshot).toBe(true);
  });
});
