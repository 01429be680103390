import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
} from "@grpc/grpc-js";
import type { Logger } from "../logger.js";
import { toServiceError } from "./status-mapping.js";

/** What a handler knows of its call besides the request. */
export interface CallContext {
  /** Aborted when the client cancels or the server shuts down. */
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
}

/**
 * The call's context, and `release` to call once the handler has settled: the listener on the
 * server-wide shutdown signal must not outlive the call, or every call would leak one.
 */
function contextOf(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  shutdown: AbortSignal,
): { ctx: CallContext; release: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.on("cancelled", abort);
  if (shutdown.aborted) abort();
  else shutdown.addEventListener("abort", abort, { once: true });
  return {
    ctx: { signal: controller.signal, metadata: call.metadata },
    release: () => shutdown.removeEventListener("abort", abort),
  };
}

/** A unary handler with the shared error mapping. */
export function unary<Req, Res>(
  log: Logger,
  method: string,
  shutdown: AbortSignal,
  fn: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const { ctx, release } = contextOf(call as ServerUnaryCall<unknown, unknown>, shutdown);
    fn(call.request, ctx)
      .then(
        (response) => callback(null, response),
        (e: unknown) => callback(toServiceError(e, log, method)),
      )
      .finally(release);
  };
}

/** Sends one message, waiting while the transport's buffer is full (flow control). */
export type Send<Res> = (message: Res) => Promise<void>;

/**
 * A server-streaming handler with the shared error mapping. `send` resolves once the message is
 * accepted by the transport, so a handler that awaits it never buffers more than grpc-js does.
 */
export function serverStream<Req, Res>(
  log: Logger,
  method: string,
  shutdown: AbortSignal,
  fn: (request: Req, send: Send<Res>, ctx: CallContext) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const { ctx, release } = contextOf(call as ServerWritableStream<unknown, unknown>, shutdown);
    const send: Send<Res> = (message) => {
      if (ctx.signal.aborted) return Promise.reject(new CancelledError());
      if (call.write(message)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onDrain = () => {
          ctx.signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          call.off("drain", onDrain);
          reject(new CancelledError());
        };
        call.once("drain", onDrain);
        ctx.signal.addEventListener("abort", onAbort, { once: true });
      });
    };
    fn(call.request, send, ctx)
      .then(
        () => call.end(),
        (e: unknown) => {
          if (e instanceof CancelledError || ctx.signal.aborted) {
            call.end();
            return;
          }
          call.emit("error", toServiceError(e, log, method));
        },
      )
      .finally(release);
  };
}

/** The call was cancelled while a handler was sending; nobody is listening any more. */
class CancelledError extends Error {
  override readonly name = "CancelledError";
  constructor() {
    super("call cancelled");
  }
}
