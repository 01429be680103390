import { create } from "@bufbuild/protobuf";
import { type ReadCandlesResponse, ReadCandlesResponseSchema } from "../gen/backbone/storage/v1/storage_pb.js";
import { WIRE_LEN, WIRE_VARINT } from "./protobuf-wire.js";

/** The CandleColumns fields in number order (time_ms = 1 ... quote_volume = 7). */
const COLUMN_FIELDS = ["timeMs", "open", "high", "low", "close", "volume", "quoteVolume"] as const;
const WIRE_FIXED64 = 1;
const WIRE_FIXED32 = 5;

class WireReader {
  at = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.end) throw new RangeError("truncated varint");
      const b = this.buf[this.at++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 63) throw new RangeError("varint too long");
    }
  }

  /** Skips a field of `wireType` whose tag was read. */
  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_FIXED64) this.at += 8;
    else if (wireType === WIRE_LEN) this.at += this.varint();
    else if (wireType === WIRE_FIXED32) this.at += 4;
    else throw new RangeError(`wire type ${wireType}`);
    if (this.at > this.end) throw new RangeError("truncated field");
  }

  /** The next length-delimited body, as [start, end). */
  span(): [number, number] {
    const len = this.varint();
    const start = this.at;
    this.at += len;
    if (this.at > this.end) throw new RangeError("truncated field");
    return [start, this.at];
  }
}

/**
 * ReadCandlesResponse from its wire bytes, each column copied once into memory of its own, so the
 * columns are 8-byte aligned and become typed arrays without a further copy (`columnsFromWire`);
 * `candle_batch` stays a view of `bytes` (grpc-js hands each message over in a buffer of its own:
 * test/integration/scratch-serializer.test.ts). The generic deserializer copies the whole message
 * first and then every unaligned column again. Same result as protobuf-es `fromBinary` (a test
 * holds them equal).
 */
export function decodeReadCandlesResponse(bytes: Uint8Array): ReadCandlesResponse {
  const r = new WireReader(bytes);
  const columns: Partial<Record<(typeof COLUMN_FIELDS)[number], Uint8Array>> = {};
  let hasCandles = false;
  let count = 0;
  let candleBatch: Uint8Array = new Uint8Array();
  let lastTimeMs = 0;
  while (r.at < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === WIRE_LEN) {
      hasCandles = true;
      const [start, end] = r.span();
      const inner = new WireReader(bytes, end);
      inner.at = start;
      while (inner.at < end) {
        const t = inner.varint();
        const name = COLUMN_FIELDS[Math.floor(t / 8) - 1];
        if (name !== undefined && t % 8 === WIRE_LEN) {
          const [s, e] = inner.span();
          // A repeated occurrence of a bytes field replaces the earlier one, as in protobuf.
          columns[name] = new Uint8Array(bytes.subarray(s, e));
        } else inner.skip(t % 8);
      }
    } else if (field === 2 && wireType === WIRE_VARINT) {
      // uint32: protobuf keeps the low 32 bits.
      count = r.varint() % 2 ** 32;
    } else if (field === 3 && wireType === WIRE_LEN) {
      // Forwarded as it is, so a view.
      const [start, end] = r.span();
      candleBatch = bytes.subarray(start, end);
    } else if (field === 4 && wireType === WIRE_VARINT) {
      lastTimeMs = r.varint();
    } else r.skip(wireType);
  }
  return create(ReadCandlesResponseSchema, { ...(hasCandles ? { candles: columns } : {}), count, candleBatch, lastTimeMs: BigInt(lastTimeMs) });
}
