/**
 * One growing buffer for a gRPC response serializer to write into. grpc-js copies what a
 * serializer returns into a framed buffer of its own before `serializeMessage` returns (it does
 * not compress responses), so the serializer's buffer is free again at once: a bulk stream then
 * allocates one buffer per message instead of two, and its garbage halves. Only for serializers
 * handed to grpc-js; `test/integration/scratch-serializer.test.ts` holds grpc-js to that copy.
 * Holds as much memory as the largest message it has written.
 */
export class ScratchBuffer {
  private buf = Buffer.allocUnsafe(0);

  /** `size` bytes of the buffer, valid until the next call. */
  take(size: number): Buffer {
    if (size > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(size, Math.min(2 * this.buf.length, 64 * 1024 * 1024)));
    return this.buf.subarray(0, size);
  }
}
