import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { isInvalidArgumentError, isNotFoundError, isUnavailableError } from "../errors.js";
import type { Logger } from "../logger.js";

/** An error that already carries the gRPC status it should be answered with. */
export class StatusError extends Error {
  override readonly name = "StatusError";
  constructor(
    readonly code: status,
    message: string,
    /** Sent as trailing metadata, e.g. `retry-after-ms`. */
    readonly trailers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * The one mapping from errors to gRPC statuses. Unknown errors become INTERNAL with a generic
 * message; their cause goes to the log and never to the client.
 */
export function toServiceError(e: unknown, log: Logger, method: string): Partial<ServiceError> {
  const answer = (code: status, details: string, trailers: Readonly<Record<string, string>> = {}): Partial<ServiceError> => {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
    return { code, details, metadata };
  };
  if (e instanceof StatusError) return answer(e.code, e.message, e.trailers);
  if (isInvalidArgumentError(e)) return answer(status.INVALID_ARGUMENT, e.message);
  if (isNotFoundError(e)) return answer(status.NOT_FOUND, e.message);
  if (isUnavailableError(e)) return answer(status.UNAVAILABLE, e.message);
  log.error("internal error", { method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return answer(status.INTERNAL, "internal error");
}
