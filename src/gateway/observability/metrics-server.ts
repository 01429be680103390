import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../shared/logger.js";
import { isLoopbackHost } from "../security/listen-policy.js";
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from "./status-page.js";

export interface MetricsServerOptions {
  /** Without IPv6 brackets. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Prometheus text and its content type. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** The status page's data. */
  status: () => Promise<unknown>;
  log: Logger;
}

export interface MetricsServer {
  /** `host:port` as bound (the real port when 0 was asked), IPv6 in brackets. */
  readonly address: string;
  /** `http://address/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** A scrape or page load that takes longer than this is cut off. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * `GET /metrics` (Prometheus text), `GET /status.json` and `GET /` (the status page) over plain
 * HTTP. Read-only: nothing here changes the gateway. Bound to loopback, it also refuses requests
 * whose Host header names another machine, so a web page the operator visits cannot read it
 * through DNS rebinding.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const loopbackOnly = isLoopbackHost(options.host);
  const server = createServer((req, res) => {
    handle(req, res, options, loopbackOnly).catch((e: unknown) => {
      options.log.warn("metrics request failed", { path: req.url, error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      const { address, port } = server.address() as AddressInfo;
      const hostPort = `${address.includes(":") ? `[${address}]` : address}:${port}`;
      resolve({
        address: hostPort,
        url: `http://${hostPort}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive connections (a browser with the page open) would hold close() forever.
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: MetricsServerOptions, loopbackOnly: boolean): Promise<void> {
  if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
    return send(res, 403, "text/plain; charset=utf-8", "the metrics port answers only to loopback host names\n");
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return send(res, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
  }
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  switch (path) {
    case "/metrics": {
      const { contentType, body } = await options.metrics();
      return send(res, 200, contentType, body);
    }
    case "/status.json":
      return send(res, 200, "application/json; charset=utf-8", JSON.stringify(await options.status()));
    case "/":
      res.setHeader("content-security-policy", STATUS_PAGE_CSP);
      return send(res, 200, "text/html; charset=utf-8", STATUS_PAGE_HTML);
    default:
      return send(res, 404, "text/plain; charset=utf-8", "not found: try /, /metrics or /status.json\n");
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader("content-type", contentType);
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** `127.0.0.1:9464`, `localhost`, `[::1]:9464`; absent counts as loopback (HTTP/1.0 clients). */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined || host === "") return true;
  const name = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(host)?.[1];
  return name !== undefined && isLoopbackHost(name);
}
