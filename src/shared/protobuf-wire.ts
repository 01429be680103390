/**
 * The pieces of the protobuf wire format the hand-written encoders share (for answers too hot for
 * reflection). Values are non-negative JavaScript numbers below 2^53.
 */

export const WIRE_VARINT = 0;
export const WIRE_LEN = 2;

/** A field's tag byte(s) value: field number and wire type. */
export function wireTag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

export function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Bytes of a length-delimited field with a one-byte tag and a body of `bodyLength` bytes. */
export function lenFieldLength(bodyLength: number): number {
  return 1 + varintLength(bodyLength) + bodyLength;
}

// Millisecond times from 1971 to 2109 lie in [2^35, 2^42): 6-byte varints, every candle time's.
export const SIX_BYTE_VARINT_MIN = 2 ** 35;
export const SIX_BYTE_VARINT_END = 2 ** 42;

/** Writes `hi * 2^32 + lo`, which must lie in [2^35, 2^42), as its 6-byte varint: unrolled, integer arithmetic. */
export function writeSixByteVarint(buf: Uint8Array, at: number, lo: number, hi: number): number {
  buf[at] = lo | 0x80;
  buf[at + 1] = (lo >>> 7) | 0x80;
  buf[at + 2] = (lo >>> 14) | 0x80;
  buf[at + 3] = (lo >>> 21) | 0x80;
  buf[at + 4] = (lo >>> 28) | (hi << 4) | 0x80;
  buf[at + 5] = hi >>> 3;
  return at + 6;
}
