/**
 * The status page in headless Chromium against a gateway front over the real stack: it loads,
 * fetches /status.json by itself and shows the live numbers; a screenshot is kept as a test
 * artifact (test-artifacts/status-page.png). Needs Debian's chromium (scripts/install-chromium.sh).
 */
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Priority, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { marketDataService } from "../../src/gateway/market-data-service.js";
import { GatewayMetrics } from "../../src/gateway/observability/gateway-metrics.js";
import { instrumentService } from "../../src/gateway/observability/instrument-service.js";
import { type Observability, startObservability } from "../../src/gateway/observability/observability.js";
import type { StatusSnapshot } from "../../src/gateway/observability/status-snapshot.js";
import { EventLoopLag } from "../../src/gateway/scheduler/event-loop-lag.js";
import { UPBIT_RATE_GROUPS } from "../../src/gateway/upstream/upbit-rest-client.js";
import { createLogger, silentLogger } from "../../src/shared/logger.js";
import { MINUTE_MS } from "../../src/shared/time.js";
import { type Front, startFront } from "../support/gateway-front.js";
import { type Stack, startStack } from "../support/gateway-stack.js";
import { renderedDom, requireChromium, screenshot } from "./headless-chromium.js";

const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts");
const SCREENSHOT = resolve(ARTIFACTS, "status-page.png");
const CELL_MS = 200 * MINUTE_MS;

/** The text of the element with `id` in a serialized DOM. */
function textOf(dom: string, id: string): string {
  const m = new RegExp(`<[a-z]+ [^>]*\\bid="${id}"[^>]*>([^<]*)<`).exec(dom);
  if (!m) throw new Error(`no element #${id} in the rendered page`);
  return m[1]!;
}

/** An attribute of the element with `id`. */
function attributeOf(dom: string, id: string, name: string): string {
  const tag = new RegExp(`<[a-z]+ [^>]*\\bid="${id}"[^>]*>`).exec(dom)?.[0];
  const value = tag === undefined ? undefined : new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  if (value === undefined) throw new Error(`no ${name} on #${id} in the rendered page`);
  return value;
}

const plain = (text: string) => Number(text.replace(/,/g, ""));

describe("status page in headless Chromium", () => {
  let stack: Stack;
  let front: Front;
  let lag: EventLoopLag;
  let observability: Observability;
  let url: string;
  const streamAbort = new AbortController();

  beforeAll(async () => {
    // Fail at once, with the fix, rather than after starting the whole stack.
    requireChromium();
    stack = await startStack();
    const metrics = new GatewayMetrics();
    lag = new EventLoopLag();
    lag.start();
    front = await startFront(stack, { handlers: (deps, shutdown) => instrumentService(marketDataService(deps, shutdown, lag), { metrics, log: silentLogger }) });
    observability = await startObservability({ deps: front.deps, metrics, eventLoop: lag, listen: { host: "127.0.0.1", port: 0, explicit: true }, log: silentLogger });
    url = `http://${observability.address}/`;

    // Some traffic for the page to show: a cold and a warm chart, tickers, a live stream left open.
    const end = (Math.floor(Date.now() / CELL_MS) - 2) * CELL_MS;
    const request = { market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, startMs: BigInt(end - CELL_MS), endMs: BigInt(end) };
    await front.client.getCandles(request);
    await front.client.getCandles(request);
    await front.client.getTickers({ markets: ["KRW-BTC", "KRW-ETH"], priority: Priority.CRITICAL });
    const stream = front.client.streamTickers({ markets: ["KRW-BTC"], priority: Priority.CRITICAL }, { signal: streamAbort.signal })[Symbol.asyncIterator]();
    await stream.next();
    createLogger("status-page-test", "silent").warn("upbit rate limited (429); group paused", { group: "candles" });
  });

  afterAll(async () => {
    streamAbort.abort();
    await observability?.stop();
    await front?.close();
    lag?.stop();
    await stack?.stop();
  });

  it("loads and shows the live numbers /status.json reports", async () => {
    const before = Date.now();
    const dom = await renderedDom(url);
    const status = (await (await fetch(`${url}status.json`)).json()) as StatusSnapshot;

    expect(textOf(dom, "link")).toBe("live");
    expect(Number(attributeOf(dom, "updated-at", "data-ms"))).toBeGreaterThanOrEqual(before);
    // Nothing called the gateway since the page loaded: its counts are the current ones.
    expect(plain(textOf(dom, "upstream-calls"))).toBe(status.upstream.calls);
    expect(status.upstream.calls).toBeGreaterThan(0);
    expect(plain(textOf(dom, "upstream-saved"))).toBe(status.upstream.saved);
    expect(textOf(dom, "store-hit-ratio")).toMatch(/^\d+\.\d%$/);
    expect(textOf(dom, "streams-active")).toBe("1");
    expect(textOf(dom, "store-state")).toBe("up");
    expect(textOf(dom, "store-candles")).toMatch(/^[\d,]+$/);
    for (const group of UPBIT_RATE_GROUPS) expect(dom).toContain(`<tr data-group="${group}">`);
    for (const priority of ["CRITICAL", "HIGH", "NORMAL", "LOW"]) expect(dom).toContain(`<tr data-priority="${priority}">`);
    expect(dom).toContain("upbit rate limited (429); group paused");
  });

  it("saves a screenshot as a test artifact", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(SCREENSHOT, { force: true });
    await screenshot(url, SCREENSHOT);
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: the window size asked for.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 1000]);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});
