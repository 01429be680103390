import { status } from "@grpc/grpc-js";
import { StatusError } from "../shared/grpc/status-mapping.js";
import {
  isAbortError,
  isUpstreamBadRequestError,
  isUpstreamNotFoundError,
  isUpstreamBlockedError,
  isUpstreamError,
  isUpstreamRateLimitedError,
} from "./upstream/upstream-errors.js";

/**
 * What a client is told when Upbit failed us. Upbit's own words go into the message (they help
 * people) but never a stack; a block carries its retry time both in words and as `retry-after-ms`.
 */
export function upstreamFailureStatus(e: unknown, nowMs: number): unknown {
  // The client went away or its deadline passed; grpc-js has answered it already.
  if (isAbortError(e)) return new StatusError(status.CANCELLED, "cancelled");
  if (!isUpstreamError(e)) return e;
  if (isUpstreamBlockedError(e)) {
    const waitMs = Math.max(0, Math.ceil(e.retryAtMs - nowMs));
    return new StatusError(
      status.UNAVAILABLE,
      `upstream: Upbit blocks requests of group ${e.group} until ${new Date(e.retryAtMs).toISOString()}; retry after ${Math.ceil(waitMs / 1000)} s`,
      { "retry-after-ms": String(waitMs) },
    );
  }
  if (isUpstreamRateLimitedError(e)) {
    return new StatusError(status.UNAVAILABLE, `upstream: Upbit kept rate-limiting us (429); retry in a few seconds`, { "retry-after-ms": "1000" });
  }
  // Our market list said the market exists; Upbit no longer does (delisted since the last refresh).
  if (isUpstreamNotFoundError(e)) return new StatusError(status.NOT_FOUND, `upstream: ${e.message}`);
  if (isUpstreamBadRequestError(e)) return new StatusError(status.INTERNAL, `upstream rejected the request: ${e.message}`);
  return new StatusError(status.UNAVAILABLE, `upstream unavailable: ${e.message}`, { "retry-after-ms": "1000" });
}
