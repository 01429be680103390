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
