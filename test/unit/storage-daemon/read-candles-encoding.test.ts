import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReadCandlesResponseSchema } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { encodeReadCandlesResponse } from "../../../src/storage-daemon/read-candles-encoding.js";

const column = fc.uint8Array({ maxLength: 300 });

describe("encodeReadCandlesResponse", () => {
  it("writes exactly the bytes protobuf-es writes for the same ReadCandlesResponse", () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ timeMs: column, open: column, high: column, low: column, close: column, volume: column, quoteVolume: column }), { nil: undefined }),
        fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 32 - 1 })),
        (candles, count) => {
          const message = create(ReadCandlesResponseSchema, { ...(candles ? { candles } : {}), count });
          expect(new Uint8Array(encodeReadCandlesResponse(message))).toEqual(toBinary(ReadCandlesResponseSchema, message));
        },
      ),
      { numRuns: 300 },
    );
  });
});
