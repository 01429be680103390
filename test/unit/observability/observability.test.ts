import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ObservedDeps } from "../../../src/gateway/observability/gateway-view.js";
import { type Observability, startObservability } from "../../../src/gateway/observability/observability.js";
import { RateLimiter } from "../../../src/gateway/upstream/rate-limiter.js";
import type { UpstreamEventListener } from "../../../src/gateway/upstream/upbit-rest-client.js";
import { createLogger, silentLogger } from "../../../src/shared/logger.js";
import { FakeView, NOW, sampleValue } from "./metrics-fakes.js";

/** Deps built from a FakeView, with a real limiter and an upstream event source the test drives. */
function fakeDeps() {
  const view = new FakeView();
  const listeners = new Set<UpstreamEventListener>();
  const limiter = new RateLimiter();
  const deps: ObservedDeps = {
    upbit: {
      requestsSent: view.sent,
      limiter,
      observe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    hub: { stats: () => view.hub() },
    store: { stats: () => (view.reading.ok ? Promise.resolve(view.reading.stats) : Promise.reject(new Error(view.reading.error))) },
    candles: { hot: { size: view.hot } },
    now: () => NOW,
  };
  return { deps, listeners, limiter };
}

const started: Observability[] = [];
const blockers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const o of started.splice(0)) await o.stop();
  for (const b of blockers.splice(0)) await b();
});

/** A port someone else holds. */
async function takenPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  blockers.push(() => new Promise((resolve) => s.close(() => resolve())));
  return (s.address() as AddressInfo).port;
}

describe("startObservability", () => {
  it("serves the gateway's metrics and status, and detaches from the gateway on stop", async () => {
    const { deps, listeners, limiter } = fakeDeps();
    const o = await startObservability({ deps, listen: { host: "127.0.0.1", port: 0, explicit: true }, log: silentLogger });
    expect(listeners.size).toBe(1);
    for (const l of listeners) l({ group: "ticker", endpoint: "/v1/ticker", kind: "request" });
    await limiter.acquire("ticker", "HIGH");
    const text = await (await fetch(`http://${o.address}/metrics`)).text();
    expect(sampleValue(text, "backbone_upstream_requests_total", { group: "ticker" })).toBe(1);
    expect(sampleValue(text, "backbone_rate_queue_wait_seconds_count", { group: "ticker", priority: "HIGH" })).toBe(1);
    expect(sampleValue(text, "backbone_store_up")).toBe(1);
    const status = (await (await fetch(`http://${o.address}/status.json`)).json()) as { upstream: { calls: number } };
    expect(status.upstream.calls).toBe(7);
    await o.stop();
    expect(listeners.size).toBe(0);
    await expect(fetch(`http://${o.address}/metrics`)).rejects.toThrow();
    limiter.close();
  });

  it("keeps the warn and error lines of the process's loggers for the status page", async () => {
    const { deps } = fakeDeps();
    const o = await startObservability({ deps, listen: { host: "127.0.0.1", port: 0, explicit: true }, log: silentLogger, recentProblems: 2 });
    started.push(o);
    const log = createLogger("somewhere", "silent");
    log.warn("first");
    log.error("second", { token: "t-secret" });
    log.error("third");
    const status = await o.status();
    expect(status.recentProblems.map((p) => p.message)).toEqual(["third", "second"]);
    expect(status.recentProblems[1]!.fields).toEqual({ token: "[redacted]" });
    expect(status.problemsTotal).toBe(3);
  });

  it("the default port in use: warns and runs without a server; an explicit one: fails", async () => {
    const port = await takenPort();
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    const { deps } = fakeDeps();
    const o = await startObservability({ deps, listen: { host: "127.0.0.1", port, explicit: false }, log });
    started.push(o);
    expect(o.address).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("metrics port in use")]);
    await expect(startObservability({ deps, listen: { host: "127.0.0.1", port, explicit: true }, log })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
