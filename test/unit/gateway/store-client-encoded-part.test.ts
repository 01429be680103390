import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReadCandlesResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { encodedPart } from "../../../src/gateway/store-client.js";
import { decodeCandleBatchFields, encodeCandleBatchFields } from "../../../src/shared/candle-batch-wire.js";
import { columnsToWire } from "../../../src/shared/candle-columns-wire.js";
import { makeCandles, T0 } from "../../support/candles.js";

describe("encodedPart", () => {
  const candles = makeCandles(T0, 5);
  const encoded = encodeCandleBatchFields(candles);

  it("takes a daemon's ready-made CandleBatch fields as they are", () => {
    const m = create(ReadCandlesResponseSchema, { candleBatch: encoded.bytes, count: 5, lastTimeMs: BigInt(encoded.lastTimeMs) });
    const part = encodedPart(m);
    expect(part.bytes).toBe(m.candleBatch);
    expect({ count: part.count, lastTimeMs: part.lastTimeMs }).toEqual({ count: 5, lastTimeMs: Number(candles.time[4]) });
  });

  it("encodes the raw columns of a daemon that ignored as_candle_batch, losing nothing", () => {
    const part = encodedPart(create(ReadCandlesResponseSchema, { candles: columnsToWire(candles), count: 5 }));
    expect(new Uint8Array(part.bytes)).toEqual(new Uint8Array(encoded.bytes));
    expect(part.lastTimeMs).toBe(encoded.lastTimeMs);
    expect(decodeCandleBatchFields(part)).toEqual(candles);
  });
});
