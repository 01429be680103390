import type { ReadCandlesResponse } from "../gen/backbone/storage/v1/storage_pb.js";
import { varintLength, WIRE_LEN, WIRE_VARINT, wireTag, writeVarint } from "../shared/protobuf-wire.js";

const TAG_CANDLES = wireTag(1, WIRE_LEN);
const TAG_COUNT = wireTag(2, WIRE_VARINT);

/**
 * ReadCandlesResponse in protobuf wire format, written directly: the same bytes protobuf-es
 * produces (a test holds them equal) with one allocation and one copy per column, where the
 * generic writer chunks and copies every column again: on a bulk read that was more of the
 * daemon's time than DuckDB's scan.
 */
export function encodeReadCandlesResponse(m: ReadCandlesResponse): Buffer {
  const c = m.candles;
  const columns = c ? [c.timeMs, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume] : [];
  let inner = 0;
  for (const col of columns) if (col.length > 0) inner += 1 + varintLength(col.length) + col.length;
  const size = (c ? 1 + varintLength(inner) + inner : 0) + (m.count > 0 ? 1 + varintLength(m.count) : 0);
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (c) {
    buf[at++] = TAG_CANDLES;
    at = writeVarint(buf, at, inner);
    columns.forEach((col, i) => {
      if (col.length === 0) return;
      buf[at++] = wireTag(i + 1, WIRE_LEN);
      at = writeVarint(buf, at, col.length);
      buf.set(col, at);
      at += col.length;
    });
  }
  if (m.count > 0) {
    buf[at++] = TAG_COUNT;
    at = writeVarint(buf, at, m.count);
  }
  return buf;
}
