/**
 * Domain errors. Each server maps them to a gRPC status in one place; anything else becomes
 * INTERNAL with its cause logged and never sent.
 */

/** A request field has a value the service cannot accept. */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  constructor(
    readonly field: string,
    readonly value: string,
    readonly problem: string,
  ) {
    super(`${field}: ${value} ${problem}`);
  }
}

export function isInvalidArgumentError(e: unknown): e is InvalidArgumentError {
  return e instanceof InvalidArgumentError;
}

/** A well-formed name of something that does not exist (e.g. a market Upbit does not list). */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

export function isNotFoundError(e: unknown): e is NotFoundError {
  return e instanceof NotFoundError;
}

/** The service is shutting down or a dependency it needs is gone. */
export class UnavailableError extends Error {
  override readonly name = "UnavailableError";
}

export function isUnavailableError(e: unknown): e is UnavailableError {
  return e instanceof UnavailableError;
}

/** A configuration value is missing or malformed; the process exits 1 with this message. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    readonly value: string,
    problem: string,
  ) {
    super(`${variable}=${JSON.stringify(value)}: ${problem}`);
  }
}
