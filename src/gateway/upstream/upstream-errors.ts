/**
 * Errors of the Upbit REST client. Each says what the gateway should tell its caller: a bad
 * request (4xx), an unknown market (404 `Code not found`), a temporary outage after retries, a
 * block with a retry time, or a reply we cannot trust (protocol error). The endpoint is named in
 * every message so a log line alone says which call failed.
 */

/** Upbit's error body: `{"error":{"name": 404 | "not_found", "message": "..."}}`. */
export interface UpbitErrorBody {
  /** The HTTP status as a number for quotation errors, a string code for gateway errors. */
  name: number | string;
  message: string;
}

/** Base of every error the client raises except aborts. */
export class UpstreamError extends Error {
  override readonly name: string = "UpstreamError";
  constructor(
    /** The REST path that failed, e.g. `/v1/candles/minutes/1`, or the rate group for limiter errors. */
    readonly endpoint: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isUpstreamError(e: unknown): e is UpstreamError {
  return e instanceof UpstreamError;
}

/** Upbit answered with an HTTP status the client does not turn into a more specific error. */
export class UpstreamHttpError extends UpstreamError {
  override readonly name: string = "UpstreamHttpError";
  constructor(
    endpoint: string,
    readonly status: number,
    /** Upbit's error body when it sent one. */
    readonly upbitError: UpbitErrorBody | undefined,
    options?: ErrorOptions,
  ) {
    super(
      endpoint,
      `upbit ${endpoint}: HTTP ${status}${upbitError === undefined ? "" : ` ${String(upbitError.name)}: ${upbitError.message}`}`,
      options,
    );
  }
}

export function isUpstreamHttpError(e: unknown): e is UpstreamHttpError {
  return e instanceof UpstreamHttpError;
}

/** A 4xx other than 418/429: our request was wrong; retrying cannot help. */
export class UpstreamBadRequestError extends UpstreamHttpError {
  override readonly name: string = "UpstreamBadRequestError";
}

export function isUpstreamBadRequestError(e: unknown): e is UpstreamBadRequestError {
  return e instanceof UpstreamBadRequestError;
}

/** 404 `Code not found`: at least one market code of the request is unknown to Upbit. */
export class UpstreamNotFoundError extends UpstreamBadRequestError {
  override readonly name = "UpstreamNotFoundError";
}

export function isUpstreamNotFoundError(e: unknown): e is UpstreamNotFoundError {
  return e instanceof UpstreamNotFoundError;
}

/** 429 on every attempt the retry budget allowed. */
export class UpstreamRateLimitedError extends UpstreamHttpError {
  override readonly name = "UpstreamRateLimitedError";
  constructor(
    endpoint: string,
    upbitError: UpbitErrorBody | undefined,
    /** Requests sent for this call, all answered 429 or failed otherwise. */
    readonly attempts: number,
  ) {
    super(endpoint, 429, upbitError);
  }
}

export function isUpstreamRateLimitedError(e: unknown): e is UpstreamRateLimitedError {
  return e instanceof UpstreamRateLimitedError;
}

/** Upbit blocked this IP (418) for a rate group; nothing is sent to that group before `retryAtMs`. */
export class UpstreamBlockedError extends UpstreamError {
  override readonly name = "UpstreamBlockedError";
  constructor(
    endpoint: string,
    /** The Upbit rate group that is blocked, e.g. `candles`. */
    readonly group: string,
    /** Epoch ms (of the client's clock) from which the group may be used again. */
    readonly retryAtMs: number,
    /** Upbit's error body of the 418 reply, when this call received it. */
    readonly upbitError?: UpbitErrorBody,
  ) {
    super(
      endpoint,
      `upbit ${endpoint}: rate group ${group} is blocked by Upbit until ${new Date(retryAtMs).toISOString()}` +
        (upbitError === undefined ? "" : ` (${upbitError.message})`),
    );
  }
}

export function isUpstreamBlockedError(e: unknown): e is UpstreamBlockedError {
  return e instanceof UpstreamBlockedError;
}

/** Network failure or 5xx on every attempt, or the client was closed. */
export class UpstreamUnavailableError extends UpstreamError {
  override readonly name = "UpstreamUnavailableError";
  constructor(
    endpoint: string,
    problem: string,
    /** Requests sent for this call (0 when it never got to send). */
    readonly attempts: number,
    /** HTTP status of the last reply, when the last attempt got one. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(endpoint, `upbit ${endpoint}: unavailable after ${attempts} attempt(s): ${problem}`, options);
  }
}

export function isUpstreamUnavailableError(e: unknown): e is UpstreamUnavailableError {
  return e instanceof UpstreamUnavailableError;
}

/** The reply is not what Upbit sends: not JSON, truncated, a field missing or of the wrong type. */
export class UpstreamProtocolError extends UpstreamError {
  override readonly name = "UpstreamProtocolError";
  constructor(
    endpoint: string,
    /** Path of the offending field inside the reply, e.g. `[3].trade_price`, or `body`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(endpoint, `upbit ${endpoint}: ${field} ${problem}`);
  }
}

export function isUpstreamProtocolError(e: unknown): e is UpstreamProtocolError {
  return e instanceof UpstreamProtocolError;
}

/**
 * The caller's AbortSignal fired. Named `AbortError` like the platform's, so code that checks
 * `e.name === "AbortError"` treats it as a cancellation; the signal's reason is the cause.
 */
export class UpstreamAbortError extends Error {
  override readonly name = "AbortError";
  constructor(reason?: unknown) {
    super("upbit call aborted", { cause: reason });
  }
}

/** True for any cancellation: ours, the platform's DOMException or undici's. */
export function isAbortError(e: unknown): e is Error {
  return e instanceof Error && e.name === "AbortError";
}
