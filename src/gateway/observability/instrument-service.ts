import type { DescService } from "@bufbuild/protobuf";
import { type handleServerStreamingCall, type handleUnaryCall, type ServerWritableStream, status, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { MarketDataService, Priority as ProtoPriority, Source } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { Logger } from "../../shared/logger.js";
import { RANGE_FETCH_DEFAULT_PRIORITY } from "../candles/range-fetch-request.js";
import { DEFAULT_PRIORITY } from "../request-priority.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { AnswerSource, GatewayMetrics, RpcPriority } from "./gateway-metrics.js";

/**
 * Wraps a grpc-js service implementation so every call is measured where it is answered: unary
 * calls by duration, priority, status and how their answer was served (ResponseMeta), streams
 * while open and by how they ended; and, at log level debug, one line per call. Wrapping at this
 * level sees the status actually sent, including calls the guard refused before any handler ran.
 */

export interface InstrumentOptions {
  metrics: GatewayMetrics;
  log: Logger;
  /** The service `implementation` serves. Default MarketDataService. */
  service?: DescService;
  /** Priority an unspecified one means, per method name, where it is not DEFAULT_PRIORITY. */
  defaults?: Readonly<Record<string, Priority>>;
}

/** RPCs whose PRIORITY_UNSPECIFIED is not NORMAL. */
const MARKET_DATA_DEFAULTS: Readonly<Record<string, Priority>> = { FetchCandleRange: RANGE_FETCH_DEFAULT_PRIORITY };

/** What a request or ResponseMeta holds; only these fields are read. */
interface WithPriority {
  priority?: unknown;
}
interface WithMeta {
  meta?: { source?: unknown; upstreamCalls?: unknown; priority?: unknown };
}

export function instrumentService(implementation: UntypedServiceImplementation, options: InstrumentOptions): UntypedServiceImplementation {
  const service = options.service ?? MarketDataService;
  const defaults = options.defaults ?? MARKET_DATA_DEFAULTS;
  const wrapped: UntypedServiceImplementation = { ...implementation };
  for (const m of service.methods) {
    const handler = implementation[m.localName];
    if (handler === undefined) continue;
    const fallback = defaults[m.name] ?? DEFAULT_PRIORITY;
    if (m.methodKind === "unary") {
      // The implementation's own request/response types do not matter here: only `priority` and `meta` are read.
      wrapped[m.localName] = wrapUnary(m.name, fallback, handler as handleUnaryCall<WithPriority, WithMeta>, options);
    } else if (m.methodKind === "server_streaming") {
      wrapped[m.localName] = wrapStream(m.name, fallback, handler as handleServerStreamingCall<WithPriority, unknown>, options);
    }
  }
  return wrapped;
}

function wrapUnary(method: string, fallback: Priority, handler: handleUnaryCall<WithPriority, WithMeta>, { metrics, log }: InstrumentOptions): handleUnaryCall<WithPriority, WithMeta> {
  return (call, callback) => {
    const startedAt = performance.now();
    handler(call, (error, value, trailer, flags) => {
      try {
        const seconds = (performance.now() - startedAt) / 1_000;
        const meta = error === null ? value?.meta : undefined;
        const priority = meta !== undefined ? priorityName(meta.priority, fallback) : askedPriority(call.request, fallback);
        const code = error === null ? "OK" : codeName((error as { code?: unknown }).code);
        const upstreamCalls = typeof meta?.upstreamCalls === "number" ? meta.upstreamCalls : 0;
        const source = meta === undefined ? undefined : sourceName(meta.source);
        metrics.observeRpc({ method, priority, code, seconds, upstreamCalls, source });
        log.debug?.("rpc", { method, priority, code, ms: round(seconds * 1_000), upstreamCalls, source });
      } catch {
        // Measuring must never keep an answer from its caller.
      }
      callback(error, value, trailer, flags);
    });
  };
}

function wrapStream(method: string, fallback: Priority, handler: handleServerStreamingCall<WithPriority, unknown>, { metrics, log }: InstrumentOptions): handleServerStreamingCall<WithPriority, unknown> {
  return (call: ServerWritableStream<WithPriority, unknown>) => {
    const startedAt = performance.now();
    const priority = askedPriority(call.request, fallback);
    const ended = metrics.streamStarted(method);
    let code = "OK";
    let done = false;
    // The shared handler (shared/grpc/handlers.ts) ends a stream with `end()` or by emitting its
    // status as an error; grpc-js's own error listener ends the call, so this one must run first.
    call.prependListener("error", (e: { code?: unknown }) => (code = codeName(e.code)));
    call.on("cancelled", () => {
      if (code === "OK") code = "CANCELLED";
    });
    const finish = () => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - startedAt) / 1_000;
      ended({ priority, code, seconds });
      log.debug?.("stream ended", { method, priority, code, ms: round(seconds * 1_000) });
    };
    call.once("finish", finish);
    call.once("close", finish);
    handler(call);
  };
}

/** The priority a request asked for, as the RPC reads it (unspecified: the RPC's default). */
function askedPriority(request: WithPriority | undefined, fallback: Priority): RpcPriority {
  if (request === undefined || request === null || !("priority" in request)) return "NONE";
  return priorityName(request.priority, fallback);
}

function priorityName(value: unknown, fallback: Priority): RpcPriority {
  if (value === ProtoPriority.UNSPECIFIED || value === undefined) return fallback;
  switch (value) {
    case ProtoPriority.CRITICAL:
      return "CRITICAL";
    case ProtoPriority.HIGH:
      return "HIGH";
    case ProtoPriority.NORMAL:
      return "NORMAL";
    case ProtoPriority.LOW:
      return "LOW";
    default:
      return "UNKNOWN";
  }
}

function sourceName(value: unknown): AnswerSource {
  switch (value) {
    case Source.STORE:
      return "STORE";
    case Source.REALTIME_CACHE:
      return "REALTIME_CACHE";
    case Source.UPSTREAM:
      return "UPSTREAM";
    case Source.MIXED:
      return "MIXED";
    default:
      return "UNSPECIFIED";
  }
}

/** `INVALID_ARGUMENT` for 3; UNKNOWN for an error without a code, as grpc-js sends it. */
export function codeName(code: unknown): string {
  if (typeof code !== "number") return "UNKNOWN";
  return (status as unknown as Record<number, string | undefined>)[code] ?? "UNKNOWN";
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
