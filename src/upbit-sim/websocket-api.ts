/**
 * The simulator's look-alike of Upbit's public quotation WebSocket (`/websocket/v1`, API.md §4):
 * the connection-rate limit at the upgrade, the connections, one feed timer that pushes what the
 * synthetic exchange did since the last tick, and fault injection.
 *
 * Choices where Upbit's behaviour is not documented (API.md marks them unverified):
 * - More messages than `messageLimitPerSecond` within one clock second on a connection: an error
 *   frame `TOO_MANY_REQUESTS` and close 1000, like every other request error (the message
 *   counts text PINGs, subscriptions and LIST_SUBSCRIPTIONS; protocol pings are free).
 * - A connection over the upgrade limit gets HTTP 429 with the quotation error body shape.
 * - Idle timeout and the disconnect fault drop the socket without a close frame (the client
 *   sees 1006, as observed on the wire).
 * - A client that reads too slowly is dropped once `MAX_BUFFERED_BYTES` are queued for it.
 * - Every server frame is binary, control replies (`{"status":"UP"}`, errors) included.
 * - One ticker message per (market, trade millisecond): the exchange can only say what the
 *   ticker is after all trades of a millisecond.
 * - JSON_LIST / SIMPLE_LIST put everything one push produces for a connection into one array
 *   (at most LIST_FRAME_MAX_ITEMS per frame); LIST_SUBSCRIPTIONS replies stay single objects.
 * - LIST_SUBSCRIPTIONS lists the codes being served (lower-case and unknown codes left out).
 * - While stalled, nothing is queued: data of the stall is lost, the idle clock stands still.
 */
import type { RestApi } from "./rest-api.js";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { createLogger } from "../shared/logger.js";
import type { SyntheticExchange } from "./exchange-model.js";
import { WsConnection } from "./ws-connection.js";
import { LiveTradeFeed, WsRecordSource } from "./ws-market-feed.js";

export interface WebSocketApiOptions {
  exchange: SyntheticExchange;
  /** Clock, UTC ms. */
  now: () => number;
  /** Close a connection after this long without data sent or received. Upbit docs: 120 000. */
  idleTimeoutMs: number;
  /** New connections accepted per second per client IP (Upbit: 5). */
  connectLimitPerSecond: number;
  /** Messages a connection may send per second (Upbit: 5). */
  messageLimitPerSecond: number;
  /** How often the feed looks for new trades/books to push, ms. Default 100. */
  tickMs?: number;
  /** The shared `Origin` budget (see RestApi.admitOriginUpgrade); upgrades without the header skip it. */
  admitOriginUpgrade?: RestApi["admitOriginUpgrade"];
}

export interface WebSocketApi {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): {
    connections: number;
    subscriptions: number;
    messagesReceived: number;
    framesSent: number;
    rejectedConnections: number;
  };
  setFaults(f: { disconnectEveryMs?: number; stall?: boolean }): void;
  /** Clears stats counters, faults and the per-IP connection windows (not connections). */
  reset(): void;
  /** Closes every connection and timer. */
  close(): Promise<void>;
}

export const DEFAULT_TICK_MS = 100;
/** Upbit's client messages are JSON of a few KB (855 codes fit in 9.5 KB); refuse megabytes. */
const MAX_CLIENT_MESSAGE_BYTES = 1024 * 1024;
/** Close code and grace period used when the simulator shuts down. */
const GOING_AWAY = 1001;
const SHUTDOWN_GRACE_MS = 1_000;
/** `min` in Upbit's Remaining-Req header is a deprecated constant (API.md §3). */
const REMAINING_REQ_MIN = 300;

const log = createLogger("upbit-sim-websocket", "warn");

export function createWebSocketApi(options: WebSocketApiOptions): WebSocketApi {
  const { exchange, now } = options;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const wss = new WebSocketServer({
    noServer: true,
    // Pongs are sent by the connection itself so that the stall fault can withhold them.
    autoPong: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    // Upbit serves permessage-deflate when the client offers it (API.md §4.2).
    perMessageDeflate: { threshold: 1024 },
  });
  const source = new WsRecordSource(exchange);
  const feed = new LiveTradeFeed(exchange);
  const counters = { messagesReceived: 0, framesSent: 0 };
  let rejectedConnections = 0;
  let stall = false;
  let disconnectEveryMs: number | undefined;
  let lastDisconnectMs = 0;
  let closed = false;
  const connections = new Map<WebSocket, WsConnection>();
  /** Connections accepted per IP in the current clock second (fixed windows, as Upbit counts). */
  let connectWindow = -1;
  const connectsInWindow = new Map<string, number>();
  /** Remaining-Req `sec` value for the 101 reply of an accepted upgrade. */
  const remainingForRequest = new WeakMap<IncomingMessage, number>();
  let timer: NodeJS.Timeout | undefined;

  wss.on("headers", (headers, req) => {
    const sec = remainingForRequest.get(req);
    if (sec !== undefined) headers.push(`Remaining-Req: group=websocket; min=${REMAINING_REQ_MIN}; sec=${sec}`);
  });

  const ensureTimer = (): void => {
    if (timer === undefined && !closed && connections.size > 0) {
      timer = setInterval(tick, tickMs);
      timer.unref();
    }
  };
  const stopTimerIfIdle = (): void => {
    if (timer !== undefined && connections.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  function tick(): void {
    try {
      const nowMs = now();
      if (disconnectEveryMs !== undefined && nowMs - lastDisconnectMs >= disconnectEveryMs) {
        lastDisconnectMs = nowMs;
        for (const c of connections.values()) c.terminate();
      }
      const markets = new Set<string>();
      for (const c of connections.values()) c.collectTradeMarkets(markets);
      const events = feed.poll(markets, nowMs);
      for (const c of connections.values()) c.onTick(nowMs, events);
    } catch (e) {
      // One bad tick must not kill the simulator; the next tick tries again.
      log.error("websocket feed tick failed", { error: e instanceof Error ? e.stack : String(e) });
    }
  }

  function reject(socket: Duplex, status: number, reason: string, body: string, extraHeaders: string[]): void {
    const head = [
      `HTTP/1.1 ${status} ${reason}`,
      "Content-Type: application/json;charset=UTF-8",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...extraHeaders,
      "Connection: close",
      "",
      "",
    ].join("\r\n");
    socket.on("error", () => {});
    socket.end(head + body);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (closed) {
      socket.destroy();
      return;
    }
    const nowMs = now();
    const window = Math.floor(nowMs / 1_000);
    if (window !== connectWindow) {
      connectWindow = window;
      connectsInWindow.clear();
    }
    const ip = req.socket.remoteAddress ?? "unknown";
    const used = connectsInWindow.get(ip) ?? 0;
    if (used >= options.connectLimitPerSecond) {
      rejectedConnections++;
      reject(socket, 429, "Too Many Requests", JSON.stringify({ error: { name: 429, message: "Too many requests" } }), [
        `Remaining-Req: group=websocket; min=${REMAINING_REQ_MIN}; sec=0`,
        "Limit-By-Ip: Yes",
      ]);
      return;
    }
    if (req.headers.origin !== undefined && options.admitOriginUpgrade) {
      const origin = options.admitOriginUpgrade(req);
      if (!origin.admitted) {
        rejectedConnections++;
        reject(socket, origin.status, origin.status === 429 ? "Too Many Requests" : "I'm a teapot", origin.body, [
          `Remaining-Req: group=origin; min=6; sec=0`,
          "Limit-By-Ip: Yes",
        ]);
        return;
      }
    }
    connectsInWindow.set(ip, used + 1);
    remainingForRequest.set(req, options.connectLimitPerSecond - used - 1);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closed) {
        ws.terminate();
        return;
      }
      const connection = new WsConnection(ws, {
        exchange,
        source,
        feed,
        now,
        idleTimeoutMs: options.idleTimeoutMs,
        messageLimitPerSecond: options.messageLimitPerSecond,
        isStalled: () => stall,
        counters,
      });
      connections.set(ws, connection);
      ws.on("close", () => {
        connections.delete(ws);
        stopTimerIfIdle();
      });
      ensureTimer();
    });
  }

  return {
    handleUpgrade,
    stats() {
      let subscriptions = 0;
      for (const c of connections.values()) subscriptions += c.subscriptionCount;
      return {
        connections: connections.size,
        subscriptions,
        messagesReceived: counters.messagesReceived,
        framesSent: counters.framesSent,
        rejectedConnections,
      };
    },
    setFaults(f) {
      if (f.stall !== undefined) stall = f.stall;
      if ("disconnectEveryMs" in f) {
        const every = f.disconnectEveryMs;
        disconnectEveryMs = every !== undefined && every > 0 ? every : undefined;
        lastDisconnectMs = now();
      }
    },
    reset() {
      counters.messagesReceived = 0;
      counters.framesSent = 0;
      rejectedConnections = 0;
      stall = false;
      disconnectEveryMs = undefined;
      connectsInWindow.clear();
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await Promise.all(
        [...connections.values()].map((c) => c.close(GOING_AWAY, "server shutting down", SHUTDOWN_GRACE_MS)),
      );
      connections.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
