import { endianness } from "node:os";
import { create } from "@bufbuild/protobuf";
import {
  CandleColumnsSchema,
  type CandleColumns as WireColumns,
} from "../gen/backbone/storage/v1/storage_pb.js";
import { type CandleColumns, PRICE_COLUMNS } from "./candle-columns.js";
import { InvalidArgumentError } from "./errors.js";

// The wire layout is little-endian; typed arrays use the host's order, so the two only agree on
// little-endian hosts (every platform Node ships prebuilt DuckDB for).
if (endianness() !== "LE") throw new Error("market-data-backbone needs a little-endian host");

const WIRE_NAMES: Record<(typeof PRICE_COLUMNS)[number], keyof WireColumns> = {
  open: "open",
  high: "high",
  low: "low",
  close: "close",
  volume: "volume",
  quoteVolume: "quoteVolume",
};

function bytesOf(a: BigInt64Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The wire message for `c`, sharing memory with it. */
export function columnsToWire(c: CandleColumns): WireColumns {
  return create(CandleColumnsSchema, {
    timeMs: bytesOf(c.time),
    open: bytesOf(c.open),
    high: bytesOf(c.high),
    low: bytesOf(c.low),
    close: bytesOf(c.close),
    volume: bytesOf(c.volume),
    quoteVolume: bytesOf(c.quoteVolume),
  });
}

/** Typed arrays need 8-byte alignment; decoded bytes are views into the message and may lack it. */
function view<T>(bytes: Uint8Array, n: number, make: (b: ArrayBufferLike, offset: number, n: number) => T): T {
  return bytes.byteOffset % 8 === 0 ? make(bytes.buffer, bytes.byteOffset, n) : make(bytes.slice().buffer, 0, n);
}
const float64s = (b: ArrayBufferLike, o: number, n: number) => new Float64Array(b, o, n);
const int64s = (b: ArrayBufferLike, o: number, n: number) => new BigInt64Array(b, o, n);

/**
 * Candle columns from the wire; INVALID_ARGUMENT naming `field` when a column is not a whole
 * number of 8-byte values or the columns differ in length.
 */
export function columnsFromWire(w: WireColumns | undefined, field: string): CandleColumns {
  const timeBytes = w?.timeMs ?? new Uint8Array();
  if (timeBytes.byteLength % 8 !== 0) {
    throw new InvalidArgumentError(`${field}.time_ms`, `${timeBytes.byteLength} bytes`, "is not a whole number of int64 values");
  }
  const n = timeBytes.byteLength / 8;
  const out: Record<string, Float64Array> = {};
  for (const name of PRICE_COLUMNS) {
    const wireName = WIRE_NAMES[name];
    const bytes = (w?.[wireName] as Uint8Array | undefined) ?? new Uint8Array();
    if (bytes.byteLength !== n * 8) {
      throw new InvalidArgumentError(
        `${field}.${wireName.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)}`,
        `${bytes.byteLength} bytes`,
        `does not hold ${n} float64 values like time_ms`,
      );
    }
    out[name] = view(bytes, n, float64s);
  }
  return {
    time: view(timeBytes, n, int64s),
    open: out.open!,
    high: out.high!,
    low: out.low!,
    close: out.close!,
    volume: out.volume!,
    quoteVolume: out.quoteVolume!,
  };
}
