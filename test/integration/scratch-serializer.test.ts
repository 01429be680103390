import { credentials, type handleServerStreamingCall, makeGenericClientConstructor, Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScratchBuffer } from "../../src/shared/scratch-buffer.js";

/**
 * Two things the bulk path takes from grpc-js, held here for any upgrade:
 * - the serializers (FetchCandleRange in the gateway, ReadCandles in the daemon) write every
 *   message into one reused buffer, sound only while grpc-js copies a serializer's result before
 *   it serializes the next message;
 * - the gateway forwards the daemon's encoded candles as views of the received message, sound
 *   only while grpc-js hands each received message over in a buffer of its own.
 * So: distinct messages written faster than the client reads them (grpc-js queues them), each
 * kept by the client as the very buffer its deserializer got, must all be intact at the end.
 */
const MESSAGES = 60;
const SIZE = 256 * 1024;

const scratch = new ScratchBuffer();
const definition: ServiceDefinition = {
  stream: {
    path: "/test.Scratch/Stream",
    requestStream: false,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    // Message i: SIZE bytes of (i % 251), written into the shared buffer.
    responseSerialize: (i: number) => scratch.take(SIZE).fill(i % 251),
    responseDeserialize: (b: Buffer) => b,
  },
};

let server: Server;
let address: string;

beforeAll(async () => {
  server = new Server();
  const stream: handleServerStreamingCall<Buffer, number> = (call) => {
    // No waiting for the transport: every message queues in grpc-js at once.
    for (let i = 0; i < MESSAGES; i++) call.write(i);
    call.end();
  };
  server.addService(definition, { stream });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

describe("a serializer writing into a ScratchBuffer", () => {
  it("sends every queued message intact, and the client's buffers stay intact while it keeps them", async () => {
    const Client = makeGenericClientConstructor(definition, "Scratch");
    const client = new Client(address, credentials.createInsecure());
    const received: Buffer[] = [];
    const call = (client as unknown as { stream(req: Buffer): AsyncIterable<Buffer> }).stream(Buffer.alloc(0));
    for await (const message of call) {
      received.push(message);
      // A slow reader: grpc-js holds the rest in its queue meanwhile.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    client.close();
    expect(received).toHaveLength(MESSAGES);
    received.forEach((m, i) => {
      expect(m.length).toBe(SIZE);
      expect(m.every((b) => b === i % 251)).toBe(true);
    });
  });
});
