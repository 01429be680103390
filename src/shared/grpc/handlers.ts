import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
} from "@grpc/grpc-js";
import { setMaxListeners } from "node:events";
import { InvalidArgumentError } from "../errors.js";
import type { Logger } from "../logger.js";
import { UndecodableRequest } from "./service-definition.js";
import { toServiceError } from "./status-mapping.js";
import { SETTLED } from "../until-aborted.js";

/** What a handler knows of its call besides the request. */
export interface CallContext {
  /** Aborted when the client cancels, the call's deadline passes (streams: at the latest 1 s after) or the server shuts down. */
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
}

/** Longest delay setTimeout takes; a deadline further away is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * How long after its deadline a stream's handler is stopped if grpc-js has not said so: after
 * grpc-js's own deadline timer, so the client's status stays DEADLINE_EXCEEDED.
 */
const STREAM_DEADLINE_GRACE_MS = 1_000;

/**
 * The call's context, and `release` to call once the handler has settled: the listener on the
 * server-wide shutdown signal must not outlive the call, or every call would leak one.
 *
 * For streams (`deadlineGraceMs` given) the deadline is enforced here too: grpc-js tells a
 * stream's handler about its deadline only once the status is on the wire, and a client that
 * stopped reading (HTTP/2 window full) never lets it get there, so the handler (its subscription,
 * its stream slot) would live on.
 */
function contextOf(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  shutdown: AbortSignal,
  deadlineGraceMs?: number,
): { ctx: CallContext; release: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.on("cancelled", abort);
  if (shutdown.aborted) abort();
  else {
    // One listener per call in flight, each removed by `release`: many at once is no leak, and
    // Node's warning after 10 would mislead whoever reads the server's log.
    setMaxListeners(0, shutdown);
    shutdown.addEventListener("abort", abort, { once: true });
  }
  let deadlineTimer: NodeJS.Timeout | undefined;
  if (deadlineGraceMs !== undefined) {
    const deadline = call.getDeadline();
    const stopInMs = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now() + deadlineGraceMs;
    if (stopInMs < MAX_TIMER_MS) deadlineTimer = setTimeout(abort, Math.max(0, stopInMs));
  }
  return {
    ctx: { signal: controller.signal, metadata: call.metadata },
    release: () => {
      clearTimeout(deadlineTimer);
      shutdown.removeEventListener("abort", abort);
    },
  };
}

/** The request's bytes were not a message of its type: the client's fault, named as such. */
function undecodable(request: UndecodableRequest): InvalidArgumentError {
  return new InvalidArgumentError("request", "bytes", `are not a valid ${request.typeName}: ${request.problem}`);
}

/** A unary handler with the shared error mapping. */
export function unary<Req, Res>(
  log: Logger,
  method: string,
  shutdown: AbortSignal,
  fn: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // The deserializer's marker for bytes it could not decode; the handler never sees it.
    const request: unknown = call.request;
    if (request instanceof UndecodableRequest) return callback(toServiceError(undecodable(request), log, method));
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
    const request: unknown = call.request;
    if (request instanceof UndecodableRequest) {
      call.emit("error", toServiceError(undecodable(request), log, method));
      return;
    }
    const { ctx, release } = contextOf(call as ServerWritableStream<unknown, unknown>, shutdown, STREAM_DEADLINE_GRACE_MS);
    const send: Send<Res> = (message) => {
      if (ctx.signal.aborted) return Promise.reject(new CancelledError());
      if (call.write(message)) return SETTLED;
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
