import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";

/**
 * Fan-out without per-subscriber work: every subscriber that gets the same update gets the same
 * message object (one per value and snapshot flag), and `encodeOnce` turns a message object into
 * bytes once however many streams send it. A hub update to 1,000 subscribers then costs one
 * protobuf encoding instead of 1,000. Both caches are weak: they live as long as the values do.
 */
export function sharedMessages<V extends object, D extends DescMessage>(
  schema: D,
  make: (value: V, snapshot: boolean) => Parameters<typeof create<D>>[1],
): (value: V, snapshot: boolean) => MessageShape<D> {
  const cache = new WeakMap<V, [MessageShape<D> | undefined, MessageShape<D> | undefined]>();
  return (value, snapshot) => {
    let pair = cache.get(value);
    if (pair === undefined) cache.set(value, (pair = [undefined, undefined]));
    const i = snapshot ? 1 : 0;
    return (pair[i] ??= create(schema, make(value, snapshot)));
  };
}

/** A response serializer that encodes each message object once (see `sharedMessages`). */
export function encodeOnce<D extends DescMessage>(schema: D): (message: MessageShape<D>) => Buffer {
  const encoded = new WeakMap<MessageShape<D>, Buffer>();
  return (message) => {
    let bytes = encoded.get(message);
    if (bytes === undefined) {
      const b = toBinary(schema, message);
      bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      encoded.set(message, bytes);
    }
    return bytes;
  };
}
