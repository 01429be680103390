import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { streamOrderbookDepth } from "../../../src/gateway/realtime/stream-request.js";
import { answerOf } from "../../support/status-of.js";

describe("streamOrderbookDepth", () => {
  it("takes Upbit's streamed depths and reads 0 as 30", () => {
    expect([0, 1, 5, 15, 30].map(streamOrderbookDepth)).toEqual([30, 1, 5, 15, 30]);
  });

  it.each([2, 10, 31, 4_294_967_295])("refuses %d naming the field and the choices", (depth) => {
    const answer = answerOf(() => streamOrderbookDepth(depth));
    expect(answer.code).toBe(status.INVALID_ARGUMENT);
    expect(answer.details).toBe(`depth: ${depth} must be one of 1, 5, 15, 30 levels per side (0 = 30)`);
  });
});
