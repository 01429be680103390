/**
 * The simulator's own control surface under `/_sim/` (not part of Upbit): traffic counters,
 * fault injection and reset, for tests and benchmarks.
 *
 *   GET  /_sim/stats   {"groups": {...}, "websocket": {...}}
 *   GET  /_sim/faults  the faults in force
 *   POST /_sim/faults  {"latencyMs"?, "errorRate"?, "burst429"?: {"count"}, "wsDisconnectEveryMs"?, "wsStall"?}
 *   POST /_sim/reset   clears counters, rate-limit state and faults
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../shared/logger.js";
import { type FaultInjector, type FaultSettings, FaultRequestError, parseFaultPatch } from "./fault-injection.js";
import type { GroupTraffic } from "./traffic-stats.js";

export const ADMIN_PREFIX = "/_sim/";
/** Fault requests are tiny; a larger body is refused unread. */
const MAX_BODY_BYTES = 64 * 1024;

export interface AdminApiOptions {
  readonly restStats: () => Record<string, GroupTraffic>;
  readonly websocketStats: () => Record<string, number>;
  readonly faults: FaultInjector;
  /** Called after the faults changed, so the WebSocket side can follow. */
  readonly onFaultsChanged: (settings: FaultSettings) => void;
  /** Clears everything the simulator counts or injects. */
  readonly reset: () => void;
  readonly log: Logger;
}

export interface AdminApi {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json;charset=UTF-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { name: status, message } });
}

function faultsJson(s: FaultSettings): Record<string, unknown> {
  return {
    latencyMs: s.latencyMs,
    errorRate: s.errorRate,
    burst429: { count: s.burst429Remaining },
    wsDisconnectEveryMs: s.wsDisconnectEveryMs ?? null,
    wsStall: s.wsStall,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createAdminApi(options: AdminApiOptions): AdminApi {
  async function postFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(req));
    } catch (e) {
      if (e instanceof BodyTooLargeError) return sendError(res, 413, e.message);
      return sendError(res, 400, "body must be JSON");
    }
    try {
      const settings = options.faults.apply(parseFaultPatch(parsed));
      options.onFaultsChanged(settings);
      sendJson(res, 200, faultsJson(settings));
    } catch (e) {
      if (e instanceof FaultRequestError) return sendError(res, 400, e.message);
      throw e;
    }
  }

  return {
    handle(req, res) {
      const path = (req.url ?? "").split("?")[0];
      const route = `${req.method ?? ""} ${path ?? ""}`;
      switch (route) {
        case "GET /_sim/stats":
          return sendJson(res, 200, { groups: options.restStats(), websocket: options.websocketStats() });
        case "GET /_sim/faults":
          return sendJson(res, 200, faultsJson(options.faults.settings));
        case "POST /_sim/faults":
          postFaults(req, res).catch((e: unknown) => {
            options.log.error("admin request failed", { error: e instanceof Error ? e.message : String(e) });
            if (!res.headersSent) sendError(res, 500, "internal error");
            else res.destroy();
          });
          return;
        case "POST /_sim/reset":
          options.reset();
          return sendJson(res, 200, { reset: true });
        default:
          return sendError(res, 404, `no admin route ${route}; see GET /_sim/stats, GET|POST /_sim/faults, POST /_sim/reset`);
      }
    },
  };
}
