import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFetchCandleRangeResponse, type DecodedCandleBatch } from "../../../bench/candle-batch-decoder.js";
import {
  type FetchCandleRangeResponse,
  FetchCandleRangeResponseSchema,
  GapReason,
  Priority,
  Source,
} from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";

const time = fc.bigInt({ min: 0n, max: 2n ** 53n - 1n });
const price = fc.oneof(fc.constant(0), fc.constant(-0), fc.constant(NaN), fc.constant(Infinity), fc.double(), fc.double({ min: 0, max: 1e12, noNaN: true }));
const row = fc.record({ time, prices: fc.array(price, { minLength: 6, maxLength: 6 }) });
/** Times that are 6-byte varints, as every candle time is: the decoder's fast path. */
const candleRow = fc.record({ time: fc.bigInt({ min: 2n ** 35n, max: 2n ** 42n - 1n }), prices: fc.array(price, { minLength: 6, maxLength: 6 }) });
const counter = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }));
const progress = fc.record({ bucketsDone: counter, bucketsTotal: counter, marketsDone: fc.nat({ max: 2 ** 32 - 1 }), marketsTotal: fc.nat({ max: 100 }) });
const meta = fc.record({
  source: fc.constantFrom(Source.UNSPECIFIED, Source.STORE, Source.MIXED),
  upstreamCalls: fc.nat({ max: 1000 }),
  serverMs: fc.double({ noNaN: true }),
  priority: fc.constantFrom(Priority.LOW, Priority.NORMAL),
  complete: fc.boolean(),
  gaps: fc.array(fc.record({ startMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), endMs: fc.bigInt({ min: 0n, max: 2n ** 50n }), reason: fc.constant(GapReason.FORMING), detail: fc.string() }), { maxLength: 2 }),
});
const response = fc.record(
  {
    market: fc.string(),
    rows: fc.oneof(fc.array(row, { maxLength: 40 }), fc.array(candleRow, { maxLength: 40 })),
    progress: fc.option(progress, { nil: undefined }),
    meta: fc.option(meta, { nil: undefined }),
  },
  { requiredKeys: ["market", "rows"] },
);
type ResponseArgs = typeof response extends fc.Arbitrary<infer T> ? T : never;

function message(r: ResponseArgs): MessageInitShape<typeof FetchCandleRangeResponseSchema> {
  const column = (k: number) => r.rows.map((x) => x.prices[k]!);
  return {
    batch: {
      market: r.market,
      timeMs: r.rows.map((x) => x.time),
      open: column(0),
      high: column(1),
      low: column(2),
      close: column(3),
      volume: column(4),
      quoteVolume: column(5),
      ...(r.progress ? { progress: r.progress } : {}),
      ...(r.meta ? { meta: r.meta } : {}),
    },
  };
}

/** The decoded batch in protobuf-es's shape, to hold it equal to protobuf-es's own decode. */
function asProtobufEs(d: DecodedCandleBatch) {
  return {
    market: d.market,
    timeMs: [...d.time].map(BigInt),
    open: [...d.open],
    high: [...d.high],
    low: [...d.low],
    close: [...d.close],
    volume: [...d.volume],
    quoteVolume: [...d.quoteVolume],
    progress: d.progress && { ...d.progress, bucketsDone: BigInt(d.progress.bucketsDone), bucketsTotal: BigInt(d.progress.bucketsTotal) },
    meta: d.meta,
  };
}

function reference(m: FetchCandleRangeResponse) {
  const b = m.batch!;
  const p = b.progress;
  return {
    market: b.market,
    timeMs: b.timeMs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    quoteVolume: b.quoteVolume,
    progress: p && { bucketsDone: p.bucketsDone, bucketsTotal: p.bucketsTotal, marketsDone: p.marketsDone, marketsTotal: p.marketsTotal },
    meta: b.meta,
  };
}

describe("decodeFetchCandleRangeResponse", () => {
  it("decodes what protobuf-es encodes to the same values", () => {
    fc.assert(
      fc.property(response, (r) => {
        const init = message(r);
        const bytes = toBinary(FetchCandleRangeResponseSchema, create(FetchCandleRangeResponseSchema, init));
        expect(asProtobufEs(decodeFetchCandleRangeResponse(bytes))).toEqual(reference(create(FetchCandleRangeResponseSchema, init)));
      }),
      { numRuns: 300 },
    );
  });

  it("merges concatenated messages as protobuf-es does (columns append, later scalars win)", () => {
    fc.assert(
      fc.property(fc.array(response, { minLength: 2, maxLength: 3 }), (rs) => {
        const bytes = Buffer.concat(rs.map((r) => toBinary(FetchCandleRangeResponseSchema, create(FetchCandleRangeResponseSchema, message(r)))));
        expect(asProtobufEs(decodeFetchCandleRangeResponse(bytes))).toEqual(reference(fromBinary(FetchCandleRangeResponseSchema, bytes)));
      }),
      { numRuns: 200 },
    );
  });

  it("reads unpacked repeated fields and skips unknown fields", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string("KRW-BTC");
    for (const t of [1_700_000_000_000n, 1_700_000_060_000n]) w.tag(2, WireType.Varint).int64(t);
    for (let field = 3; field <= 8; field++) for (const v of [field, field + 0.5]) w.tag(field, WireType.Bit64).double(v);
    w.tag(99, WireType.Varint).uint64(2n ** 63n); // unknown, beyond 2^53: skipped, not refused
    w.join();
    const d = decodeFetchCandleRangeResponse(w.finish());
    expect(d.market).toBe("KRW-BTC");
    expect([...d.time]).toEqual([1_700_000_000_000, 1_700_000_060_000]);
    expect([...d.open]).toEqual([3, 3.5]);
    expect([...d.quoteVolume]).toEqual([8, 8.5]);
    expect(d.progress).toBeUndefined();
    expect(d.meta).toBeUndefined();
  });

  it("refuses columns of different lengths, negative times and truncated bytes", () => {
    const bytes = (init: MessageInitShape<typeof FetchCandleRangeResponseSchema>) => toBinary(FetchCandleRangeResponseSchema, create(FetchCandleRangeResponseSchema, init));
    expect(() => decodeFetchCandleRangeResponse(bytes({ batch: { timeMs: [1n, 2n], open: [1] } }))).toThrow(/open holds 1 values, time_ms 2/);
    expect(() => decodeFetchCandleRangeResponse(bytes({ batch: { timeMs: [-1n] } }))).toThrow(/time_ms\[0\].*negative or above 2\^53/);
    const whole = bytes({ batch: { market: "KRW-BTC", timeMs: [1n], open: [1], high: [1], low: [1], close: [1], volume: [1], quoteVolume: [1] } });
    expect(() => decodeFetchCandleRangeResponse(whole.subarray(0, whole.length - 3))).toThrow(/runs past the end/);
  });
});
