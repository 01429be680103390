/**
 * The HTTP side of the quotation REST API: routing, Upbit's headers (`Remaining-Req`,
 * `Limit-By-Ip`, cache headers, weak ETag, gzip), rate limiting (429/418), injected faults and
 * Upbit's error bodies (API.md §2, §3, §6.4). What each endpoint answers lives in
 * `rest-endpoints.ts`.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { gzip } from "node:zlib";
import type { Logger } from "../shared/logger.js";
import type { SyntheticExchange } from "./exchange-model.js";
import type { FaultInjector } from "./fault-injection.js";
import { type Admission, QuotationRateLimiter, type RateLimitPolicy } from "./rate-limit-window.js";
import { QUOTATION_GROUPS, type QuotationRoute, createQuotationEndpoints } from "./rest-endpoints.js";
import { UpbitRequestError } from "./rest-params.js";
import { type GroupTraffic, TrafficStats, type TrafficOutcome } from "./traffic-stats.js";
import { writeJson } from "./upbit-json.js";

export interface RestApiOptions {
  readonly exchange: SyntheticExchange;
  /** Clock for rate-limit windows and for "now" in answers. */
  readonly now: () => number;
  /** Requests per second per quotation group per client IP (Upbit: 10). */
  readonly rateLimitPerSecond: number;
  readonly faults: FaultInjector;
  readonly log: Logger;
}

export interface RestApi {
  /** Answers any request that is not an admin request (unknown paths get Upbit's 404). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stats(): Record<string, GroupTraffic>;
  /** Clears counters, rate windows and blocks. */
  reset(): void;
  /** Drops replies still waiting out an injected latency. */
  close(): void;
  /**
   * Counts a WebSocket upgrade that carries an `Origin` header against the shared origin budget
   * (Upbit counts "any quotation REST or WebSocket request" with one there): true when admitted.
   */
  admitOriginUpgrade(req: IncomingMessage): { admitted: true } | { admitted: false; status: 429 | 418; body: string };
}

/** Group shared by every request carrying an `Origin` header: 1 per 10 s (API.md §3). */
export const ORIGIN_GROUP = "origin";
const ORIGIN_POLICY: RateLimitPolicy = { limit: 1, windowMs: 10_000, minHeaderValue: 6 };
/** The deprecated `min=` constant Upbit writes on quotation groups (2026). */
const QUOTATION_MIN_HEADER = 600;
const SECOND_MS = 1_000;
/** Bodies shorter than this are sent plain even when the client accepts gzip. */
const GZIP_MIN_BYTES = 1_024;

const JSON_CONTENT_TYPE = "application/json;charset=UTF-8";
const UPBIT_HEADERS: OutgoingHttpHeaders = {
  "Content-Type": JSON_CONTENT_TYPE,
  "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
  Pragma: "no-cache",
  Expires: "0",
  Vary: "origin,access-control-request-method,access-control-request-headers,accept-encoding",
};
/** The gateway's answer to a path it has no route for; it carries no `Remaining-Req`. */
const NOT_FOUND_BODY = writeJson({ error: { name: "not_found", message: "no Route matched with those values" } });
const TOO_MANY_REQUESTS_BODY = upbitError(429, "Too many requests");
const SERVER_ERROR_JSON_BODY = upbitError(500, "Internal server error");
const SERVER_ERROR_HTML_BODY =
  "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n";

export function upbitError(status: number, message: string): string {
  return writeJson({ error: { name: status, message } });
}

function blockedBody(seconds: number): string {
  return upbitError(418, `Too many requests after being rate limited: this IP is blocked for ${seconds} seconds.`);
}

interface Reply {
  status: number;
  body: string;
  headers: OutgoingHttpHeaders;
}

export function createRestApi(options: RestApiOptions): RestApi {
  const endpoints = createQuotationEndpoints(options.exchange);
  const quotationPolicy: RateLimitPolicy = {
    limit: options.rateLimitPerSecond,
    windowMs: SECOND_MS,
    minHeaderValue: QUOTATION_MIN_HEADER,
  };
  const limiter = new QuotationRateLimiter({
    now: options.now,
    policies: new Map<string, RateLimitPolicy>([
      ...QUOTATION_GROUPS.map((g): [string, RateLimitPolicy] => [g, quotationPolicy]),
      [ORIGIN_GROUP, ORIGIN_POLICY],
    ]),
  });
  const traffic = new TrafficStats([...QUOTATION_GROUPS, ORIGIN_GROUP]);
  const delayed = new Set<NodeJS.Timeout>();

  function quotationReply(req: IncomingMessage, route: QuotationRoute, query: URLSearchParams): Reply {
    const nowMs = options.now();
    const group = req.headers.origin !== undefined ? ORIGIN_GROUP : route.group;
    const minValue = limiter.policy(group)?.minHeaderValue ?? QUOTATION_MIN_HEADER;
    const rateHeaders = (left: number): OutgoingHttpHeaders => ({
      "Remaining-Req": `group=${group}; min=${minValue}; sec=${left}`,
      "Limit-By-Ip": "Yes",
    });
    const count = (outcome: TrafficOutcome): void => traffic.record(group, outcome, nowMs);

    if (options.faults.takeBurst429()) {
      count("rejected_429");
      return { status: 429, body: TOO_MANY_REQUESTS_BODY, headers: { ...UPBIT_HEADERS, ...rateHeaders(0) } };
    }
    const admission: Admission = limiter.admit(clientIp(req), group);
    if (admission.kind === "limited") {
      count("rejected_429");
      return { status: 429, body: TOO_MANY_REQUESTS_BODY, headers: { ...UPBIT_HEADERS, ...rateHeaders(0) } };
    }
    if (admission.kind === "blocked") {
      count("other");
      return { status: 418, body: blockedBody(admission.blockSeconds), headers: { ...UPBIT_HEADERS, ...rateHeaders(0) } };
    }
    count("accepted");
    const headers = { ...UPBIT_HEADERS, ...rateHeaders(admission.remaining) };
    const serverError = options.faults.drawServerError();
    if (serverError === "json") return { status: 500, body: SERVER_ERROR_JSON_BODY, headers };
    if (serverError === "html") {
      return { status: 500, body: SERVER_ERROR_HTML_BODY, headers: { ...headers, "Content-Type": "text/html" } };
    }
    try {
      const body = route.answer(query, nowMs);
      const etag = `W/"0${createHash("md5").update(body).digest("hex")}"`;
      if (req.headers["if-none-match"] === etag) return { status: 304, body: "", headers: { ...headers, ETag: etag } };
      return { status: 200, body, headers: { ...headers, ETag: etag } };
    } catch (e) {
      if (e instanceof UpbitRequestError) return { status: e.status, body: upbitError(e.status, e.message), headers };
      options.log.error("quotation handler failed", { url: req.url, error: e instanceof Error ? e.stack : String(e) });
      return { status: 500, body: SERVER_ERROR_JSON_BODY, headers };
    }
  }

  function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    const acceptsGzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    if (!acceptsGzip || Buffer.byteLength(reply.body) < GZIP_MIN_BYTES) {
      res.writeHead(reply.status, { ...reply.headers, "Content-Length": Buffer.byteLength(reply.body) });
      res.end(reply.body);
      return;
    }
    gzip(reply.body, (error, zipped) => {
      if (error) {
        res.writeHead(reply.status, { ...reply.headers, "Content-Length": Buffer.byteLength(reply.body) });
        res.end(reply.body);
        return;
      }
      res.writeHead(reply.status, { ...reply.headers, "Content-Encoding": "gzip", "Content-Length": zipped.length });
      res.end(zipped);
    });
  }

  return {
    handle(req, res) {
      const raw = req.url ?? "/";
      const q = raw.indexOf("?");
      const pathname = q < 0 ? raw : raw.slice(0, q);
      const route = req.method === "GET" ? endpoints.route(pathname) : undefined;
      if (!route) {
        send(req, res, {
          status: 404,
          body: NOT_FOUND_BODY,
          headers: { "Content-Type": "application/json; charset=utf-8" },
        });
        return;
      }
      const reply = quotationReply(req, route, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)));
      const latencyMs = options.faults.settings.latencyMs;
      if (latencyMs <= 0) {
        send(req, res, reply);
        return;
      }
      const timer = setTimeout(() => {
        delayed.delete(timer);
        send(req, res, reply);
      }, latencyMs);
      delayed.add(timer);
    },
    admitOriginUpgrade(req) {
      const nowMs = options.now();
      const admission = limiter.admit(clientIp(req), ORIGIN_GROUP);
      if (admission.kind === "limited") {
        traffic.record(ORIGIN_GROUP, "rejected_429", nowMs);
        return { admitted: false, status: 429, body: TOO_MANY_REQUESTS_BODY };
      }
      if (admission.kind === "blocked") {
        traffic.record(ORIGIN_GROUP, "other", nowMs);
        return { admitted: false, status: 418, body: blockedBody(admission.blockSeconds) };
      }
      traffic.record(ORIGIN_GROUP, "accepted", nowMs);
      return { admitted: true };
    },
    stats: () => traffic.snapshot(),
    reset() {
      traffic.reset();
      limiter.reset();
    },
    close() {
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
    },
  };
}

function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}
