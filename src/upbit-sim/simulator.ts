/**
 * The local Upbit look-alike: one `node:http` server carrying the quotation REST API, the
 * WebSocket upgrade on `/websocket/v1` and the `/_sim/` admin API, over one deterministic
 * synthetic exchange.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type Logger, silentLogger } from "../shared/logger.js";
import { ADMIN_PREFIX, createAdminApi } from "./admin-api.js";
import type { SimulatorConfig } from "./config.js";
import type { SyntheticExchange } from "./exchange-model.js";
import { FaultInjector, type FaultSettings } from "./fault-injection.js";
import { buildMarketUniverse } from "./market-universe.js";
import { createRestApi } from "./rest-api.js";
import { createSyntheticExchange } from "./synthetic-exchange.js";
import { createWebSocketApi } from "./websocket-api.js";

export const WEBSOCKET_PATH = "/websocket/v1";
/** Upbit's per-IP connection and per-connection message budgets (API.md §3). */
const WS_CONNECT_LIMIT_PER_SECOND = 5;
const WS_MESSAGE_LIMIT_PER_SECOND = 5;

export interface SimulatorDeps {
  /** Clock, UTC ms. Default `Date.now`; tests pass a fixed or stepped clock. */
  now?: () => number;
  /** Default: silent. */
  log?: Logger;
  /** The exchange to serve. Default: the synthetic exchange built from `config.seed` and `config.markets`. */
  exchange?: SyntheticExchange;
}

export interface Simulator {
  /** Listens; resolves with the URLs clients use (REST base without `/v1`, WebSocket URL). */
  start(): Promise<{ restUrl: string; wsUrl: string; port: number }>;
  /** Closes WebSocket connections, pending replies and the server. */
  stop(): Promise<void>;
  readonly exchange: SyntheticExchange;
}

export function createSimulator(config: SimulatorConfig, deps: SimulatorDeps = {}): Simulator {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? silentLogger;
  const exchange =
    deps.exchange ??
    createSyntheticExchange({
      seed: config.seed,
      markets: buildMarketUniverse({ seed: config.seed, krwMarkets: config.markets, nowMs: now() }),
      now,
    });
  const faults = new FaultInjector(config.seed);
  const rest = createRestApi({ exchange, now, rateLimitPerSecond: config.rateLimit, faults, log });
  const websocket = createWebSocketApi({
    exchange,
    now,
    idleTimeoutMs: config.wsIdleTimeoutMs,
    connectLimitPerSecond: WS_CONNECT_LIMIT_PER_SECOND,
    messageLimitPerSecond: WS_MESSAGE_LIMIT_PER_SECOND,
    admitOriginUpgrade: (req) => rest.admitOriginUpgrade(req),
  });

  // The WebSocket side restarts its disconnect timer whenever told, so pass on only changes.
  let wsFaults: Pick<FaultSettings, "wsDisconnectEveryMs" | "wsStall"> = { wsDisconnectEveryMs: undefined, wsStall: false };
  const syncWebSocketFaults = (settings: FaultSettings): void => {
    const change: { disconnectEveryMs?: number; stall?: boolean } = {};
    if (settings.wsDisconnectEveryMs !== wsFaults.wsDisconnectEveryMs) change.disconnectEveryMs = settings.wsDisconnectEveryMs;
    if (settings.wsStall !== wsFaults.wsStall) change.stall = settings.wsStall;
    wsFaults = { wsDisconnectEveryMs: settings.wsDisconnectEveryMs, wsStall: settings.wsStall };
    if (Object.keys(change).length > 0) websocket.setFaults(change);
  };

  const admin = createAdminApi({
    restStats: () => rest.stats(),
    websocketStats: () => ({ ...websocket.stats() }),
    faults,
    onFaultsChanged: syncWebSocketFaults,
    reset: () => {
      rest.reset();
      faults.reset();
      websocket.reset();
      wsFaults = { wsDisconnectEveryMs: undefined, wsStall: false };
    },
    log,
  });

  let server: Server | undefined;

  function rejectUpgrade(socket: Duplex): void {
    const body = '{"error":{"name":"not_found","message":"no Route matched with those values"}}';
    socket.on("error", () => {});
    socket.end(
      `HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  return {
    exchange,
    async start() {
      if (server) throw new Error("simulator already started");
      const s = createServer({ keepAlive: true }, (req, res) => {
        try {
          if ((req.url ?? "").startsWith(ADMIN_PREFIX)) admin.handle(req, res);
          else rest.handle(req, res);
        } catch (e) {
          // Handlers answer every request they can; this is the last line against a crash.
          log.error("request failed", { url: req.url, error: e instanceof Error ? e.stack : String(e) });
          if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json;charset=UTF-8" });
          res.end('{"error":{"name":500,"message":"Internal server error"}}');
        }
      });
      s.on("upgrade", (req, socket: Duplex, head: Buffer) => {
        const path = (req.url ?? "").split("?")[0];
        if (path === WEBSOCKET_PATH) websocket.handleUpgrade(req, socket, head);
        else rejectUpgrade(socket);
      });
      s.on("clientError", (_e, socket: Duplex) => {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        else socket.destroy();
      });
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(config.port, config.host, () => {
          s.off("error", reject);
          resolve();
        });
      });
      const { port } = s.address() as AddressInfo;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      log.info("listening", { host: config.host, port });
      return { restUrl: `http://${host}:${port}`, wsUrl: `ws://${host}:${port}${WEBSOCKET_PATH}`, port };
    },
    async stop() {
      rest.close();
      await websocket.close();
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
