/**
 * Clients that send whatever bytes a test wants: grpc-js with identity serializers (any bytes as
 * a request message, any path), and bare HTTP/2 streams for what a polite client never does (a
 * request trickled one byte at a time, a stream never read, a length prefix that lies).
 */
import http2 from "node:http2";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** How a call ended. */
export interface RawAnswer {
  code: number;
  details: string;
  /** From the call's start to its status. */
  ms: number;
  /** Messages received before the status. */
  messages: number;
}

const identity = (b: Buffer): Buffer => b;

export class RawGrpcClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
    });
  }

  /** One call of `path` with `bytes` as its request message; resolves with its status, never rejects. */
  call(path: string, bytes: Uint8Array, streaming: boolean, deadlineMs: number): Promise<RawAnswer> {
    const started = performance.now();
    const options = { deadline: new Date(Date.now() + deadlineMs) };
    const request = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new Promise((resolve) => {
      if (!streaming) {
        this.client.makeUnaryRequest(path, identity, identity, request, new Metadata(), options, (err: ServiceError | null) => {
          resolve({ code: err?.code ?? status.OK, details: err?.details ?? "", ms: performance.now() - started, messages: err ? 0 : 1 });
        });
        return;
      }
      const call = this.client.makeServerStreamRequest(path, identity, identity, request, new Metadata(), options);
      let messages = 0;
      call.on("data", () => messages++);
      call.on("error", () => {}); // the status event says how it ended
      call.on("status", (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details, ms: performance.now() - started, messages }));
    });
  }

  close(): void {
    this.client.close();
  }
}

/** `bytes` as one gRPC length-prefixed message (uncompressed). */
export function grpcFrame(bytes: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** A bare HTTP/2 connection to a gRPC server. */
export function connectHttp2(address: string, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const session = http2.connect(`http://${address}`, { settings });
  session.on("error", () => {});
  return session;
}

/** Request headers of a gRPC call, with a server-side deadline when `timeoutSeconds` is given. */
function grpcHeaders(path: string, timeoutSeconds?: number): http2.OutgoingHttpHeaders {
  return {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...(timeoutSeconds === undefined ? {} : { "grpc-timeout": `${timeoutSeconds}S` }),
  };
}

/** The grpc-status of a response, from its headers (trailers-only answer) or its trailers. */
function statusOf(stream: http2.ClientHttp2Stream): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const settle = (h: http2.IncomingHttpHeaders) => {
      const code = h["grpc-status"];
      if (code === undefined) return false;
      resolve({ code: Number(code), details: decodeURIComponent(String(h["grpc-message"] ?? "")) });
      return true;
    };
    stream.on("response", (h) => void settle(h));
    stream.on("trailers", (h) => void settle(h));
    stream.on("close", () => resolve({ code: -1, details: `stream closed without a status (RST code ${stream.rstCode})` }));
    stream.on("error", () => {});
  });
}

/**
 * Slow-loris: a call whose request frame is sent one byte every `byteEveryMs`, with a
 * `grpc-timeout` of `timeoutSeconds`. Resolves with the status the server answered and when;
 * stops sending once it has one.
 */
export async function trickle(session: http2.ClientHttp2Session, path: string, bytes: Uint8Array, timeoutSeconds: number, byteEveryMs: number): Promise<RawAnswer & { bytesSent: number }> {
  const started = performance.now();
  const stream = session.request(grpcHeaders(path, timeoutSeconds));
  stream.resume(); // any body is drained
  const frame = grpcFrame(bytes);
  let sent = 0;
  let answered = false;
  const answer = statusOf(stream).then((s) => {
    answered = true;
    return s;
  });
  const timer = setInterval(() => {
    if (answered || stream.destroyed || sent >= frame.length) {
      clearInterval(timer);
      return;
    }
    stream.write(frame.subarray(sent, sent + 1));
    sent++;
  }, byteEveryMs);
  const s = await answer;
  clearInterval(timer);
  if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  return { ...s, ms: performance.now() - started, messages: 0, bytesSent: sent };
}

/** A stream call whose response is never read (the session's window stays full) until `finish`. */
export interface UnreadStream {
  /** Starts reading: buffered messages, then the status. */
  finish(): Promise<{ code: number; details: string }>;
  cancel(): void;
}

export function openUnread(session: http2.ClientHttp2Session, path: string, bytes: Uint8Array, timeoutSeconds: number): UnreadStream {
  const stream = session.request(grpcHeaders(path, timeoutSeconds));
  const answer = statusOf(stream);
  stream.end(grpcFrame(bytes));
  stream.pause();
  return {
    finish: () => {
      stream.resume();
      return answer;
    },
    cancel: () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    },
  };
}

/** A message whose length prefix claims `claimed` bytes but carries only a few: the server must refuse it by the prefix. */
export function lyingLength(session: http2.ClientHttp2Session, path: string, claimed: number): Promise<{ code: number; details: string }> {
  const stream = session.request(grpcHeaders(path, 10));
  stream.resume();
  const answer = statusOf(stream);
  const prefix = Buffer.alloc(5 + 16, 0x41);
  prefix.writeUInt8(0, 0);
  prefix.writeUInt32BE(claimed, 1);
  stream.write(prefix);
  void answer.then(() => {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  return answer;
}
