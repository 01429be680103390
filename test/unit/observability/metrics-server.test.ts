import { createHash } from "node:crypto";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type MetricsServer, startMetricsServer } from "../../../src/gateway/observability/metrics-server.js";
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from "../../../src/gateway/observability/status-page.js";
import { silentLogger } from "../../../src/shared/logger.js";

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(status: () => Promise<unknown> = () => Promise.resolve({ ok: true })) {
  server = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: () => Promise.resolve({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "backbone_up 1\n" }),
    status,
    log: silentLogger,
  });
  return server;
}

/** A raw request, so the Host header can be anything. */
function get(s: MetricsServer, path: string, options: { method?: string; host?: string } = {}) {
  const [hostname, port] = [s.address.replace(/:\d+$/, ""), Number(s.address.replace(/^.*:/, ""))];
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? "GET", headers: options.host === undefined ? {} : { host: options.host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("metrics server", () => {
  it("serves /metrics, /status.json and the status page with their content types", async () => {
    const s = await start();
    expect(s.url).toBe(`http://${s.address}/`);
    const metrics = await get(s, "/metrics");
    expect(metrics).toMatchObject({ status: 200, body: "backbone_up 1\n" });
    expect(metrics.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const status = await get(s, "/status.json");
    expect(status.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(status.body)).toEqual({ ok: true });
    const page = await get(s, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toBe(STATUS_PAGE_CSP);
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.body).toBe(STATUS_PAGE_HTML);
  });

  it("the page is self-contained and its CSP allows exactly its inline script and style", () => {
    expect(STATUS_PAGE_HTML).not.toMatch(/\b(src|href)=/);
    const script = /<script>([\s\S]*)<\/script>/.exec(STATUS_PAGE_HTML)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(STATUS_PAGE_HTML)![1]!;
    const hash = (t: string) => `'sha256-${createHash("sha256").update(t).digest("base64")}'`;
    expect(STATUS_PAGE_CSP).toContain(`script-src ${hash(script)};`);
    expect(STATUS_PAGE_CSP).toContain(`style-src ${hash(style)};`);
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
    // Data reaches the DOM as text only.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it("answers HEAD without a body, 405 to other methods, 404 to other paths", async () => {
    const s = await start();
    const head = await get(s, "/metrics", { method: "HEAD" });
    expect(head).toMatchObject({ status: 200, body: "" });
    const post = await get(s, "/metrics", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    const missing = await get(s, "/admin");
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("/metrics");
  });

  it("on loopback, refuses a Host header naming another machine (DNS rebinding)", async () => {
    const s = await start();
    expect((await get(s, "/status.json", { host: "evil.example:9464" })).status).toBe(403);
    expect((await get(s, "/status.json", { host: `localhost:${s.address.split(":")[1]}` })).status).toBe(200);
    expect((await get(s, "/status.json", { host: "[::1]:9464" })).status).toBe(200);
  });

  it("answers 500 without details when building an answer fails", async () => {
    const s = await start(() => Promise.reject(new Error("secret internals")));
    const res = await get(s, "/status.json");
    expect(res.status).toBe(500);
    expect(res.body).toBe("internal error\n");
  });

  it("refuses to start on a port in use, with EADDRINUSE", async () => {
    const s = await start();
    const port = Number(s.address.split(":")[1]);
    await expect(startMetricsServer({ host: "127.0.0.1", port, metrics: () => Promise.resolve({ contentType: "text/plain", body: "" }), status: () => Promise.resolve({}), log: silentLogger })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
