import { candleBatchLayout, writeCandleBatchFields } from "../shared/candle-batch-wire.js";
import { type CandleColumns, columnsLength, PRICE_COLUMNS } from "../shared/candle-columns.js";
import { lenFieldLength, varintLength, WIRE_LEN, WIRE_VARINT, wireTag, writeVarint } from "../shared/protobuf-wire.js";
import type { ScratchBuffer } from "../shared/scratch-buffer.js";

/** One ReadCandles message before encoding: a batch of stored candles and the layout the reader asked for. */
export interface ReadBatch {
  readonly candles: CandleColumns;
  /** Write them as `candle_batch` (public CandleBatch fields) instead of `candles` (raw columns). */
  readonly asCandleBatch: boolean;
}

// ReadCandlesResponse fields (see storage.proto), written in field order as protobuf-es does.
const TAG_CANDLES = wireTag(1, WIRE_LEN);
const TAG_COUNT = wireTag(2, WIRE_VARINT);
const TAG_CANDLE_BATCH = wireTag(3, WIRE_LEN);
const TAG_LAST_TIME = wireTag(4, WIRE_VARINT);

function rawColumns(c: CandleColumns): Uint8Array[] {
  return [c.time, ...PRICE_COLUMNS.map((name) => c[name])].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * ReadCandlesResponse in protobuf wire format, written directly from the columns: the same bytes
 * protobuf-es produces for the same message (a test holds them equal), with one copy per column
 * where the generic writer chunks and copies every column again (on a bulk read that was more
 * of the daemon's time than DuckDB's scan). With `out`, written into its reusable buffer (see
 * ScratchBuffer: only for a serializer handed to grpc-js).
 */
export function encodeReadBatch(b: ReadBatch, out?: ScratchBuffer): Buffer {
  const c = b.candles;
  const n = columnsLength(c);
  const lastTime = n > 0 ? Number(c.time[n - 1]) : 0;
  const raw = b.asCandleBatch ? [] : rawColumns(c);
  const columnsBody = raw.reduce((sum, col) => sum + (col.length > 0 ? lenFieldLength(col.length) : 0), 0);
  const layout = b.asCandleBatch ? candleBatchLayout(c) : undefined;
  const batchBody = layout?.length ?? 0;
  const size =
    (b.asCandleBatch ? 0 : lenFieldLength(columnsBody)) +
    (n > 0 ? 1 + varintLength(n) : 0) +
    (batchBody > 0 ? lenFieldLength(batchBody) : 0) +
    (lastTime > 0 ? 1 + varintLength(lastTime) : 0);
  const buf = out ? out.take(size) : Buffer.allocUnsafe(size);
  let at = 0;
  if (!b.asCandleBatch) {
    buf[at++] = TAG_CANDLES;
    at = writeVarint(buf, at, columnsBody);
    raw.forEach((col, i) => {
      if (col.length === 0) return;
      buf[at++] = wireTag(i + 1, WIRE_LEN);
      at = writeVarint(buf, at, col.length);
      buf.set(col, at);
      at += col.length;
    });
  }
  if (n > 0) {
    buf[at++] = TAG_COUNT;
    at = writeVarint(buf, at, n);
  }
  if (layout && batchBody > 0) {
    buf[at++] = TAG_CANDLE_BATCH;
    at = writeVarint(buf, at, batchBody);
    at = writeCandleBatchFields(buf, at, c, layout);
  }
  if (lastTime > 0) {
    buf[at++] = TAG_LAST_TIME;
    at = writeVarint(buf, at, lastTime);
  }
  return buf;
}
