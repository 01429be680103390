/**
 * The events UpbitRestClient reports for metrics, against a loopback HTTP server scripted to
 * answer 500, 429, 418 or a good reply.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpbitRestClient, type UpstreamEvent } from "../../../src/gateway/upstream/upbit-rest-client.js";

const MARKETS = '[{"market":"KRW-BTC","korean_name":"비트코인","english_name":"Bitcoin"}]';

let server: Server | undefined;
let client: UpbitRestClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = client = undefined;
});

/** Answers each request with the next status of `statuses` (200 with a market list after them). */
async function scripted(statuses: number[]): Promise<string> {
  server = createServer((_req, res) => {
    const status = statuses.shift() ?? 200;
    res.writeHead(status, { "content-type": "application/json", "remaining-req": "group=market; min=1800; sec=9" });
    res.end(status === 200 ? MARKETS : `{"error":{"name":${status},"message":"Too many requests. Blocked for 30 seconds"}}`);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function clientOf(baseUrl: string) {
  const seen: UpstreamEvent[] = [];
  // No real waiting: retry backoff and 429 pauses pass at once.
  client = new UpbitRestClient({ baseUrl, retryBaseDelayMs: 1, retryMaxDelayMs: 1, rateLimit: { rateLimitBackoffBaseMs: 1, rateLimitBackoffMaxMs: 1 }, onEvent: (e) => seen.push(e) });
  return { client, kinds: () => seen.map((e) => e.kind), seen };
}

describe("UpbitRestClient events", () => {
  it("a 5xx then a 429 then success: request, error, retry, request, 429, retry, request", async () => {
    const { client, kinds, seen } = clientOf(await scripted([500, 429]));
    await client.listMarkets(false, { priority: "NORMAL" });
    expect(kinds()).toEqual(["request", "error", "retry", "request", "429", "retry", "request"]);
    expect(new Set(seen.map((e) => `${e.group} ${e.endpoint}`))).toEqual(new Set(["market /v1/market/all"]));
    expect(client.requestsSent).toBe(3);
  });

  it("a 418: request, 418, and no retry", async () => {
    const { client, kinds } = clientOf(await scripted([418]));
    await expect(client.listMarkets(false, { priority: "NORMAL" })).rejects.toThrow();
    expect(kinds()).toEqual(["request", "418"]);
  });

  it("observe adds listeners and removes them; a throwing listener changes nothing", async () => {
    const { client, kinds } = clientOf(await scripted([]));
    const extra: string[] = [];
    const stop = client.observe((e) => extra.push(e.kind));
    client.observe(() => {
      throw new Error("listener bug");
    });
    await client.listMarkets(false, { priority: "HIGH" });
    stop();
    await client.listMarkets(false, { priority: "HIGH" });
    expect(extra).toEqual(["request"]);
    expect(kinds()).toEqual(["request", "request"]);
  });
});
