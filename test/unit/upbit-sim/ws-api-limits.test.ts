import { WebSocket } from "ws";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebSocketApiOptions } from "../../../src/upbit-sim/websocket-api.js";
import {
  createFakeExchange,
  isStatusUp,
  manualClock,
  obj,
  startHarness,
  T0,
  type FakeExchange,
  type WsHarness,
} from "./ws-test-support.js";

const harnesses: WsHarness[] = [];

async function setup(options: Partial<WebSocketApiOptions> = {}): Promise<{
  h: WsHarness;
  clock: ReturnType<typeof manualClock>;
  ex: FakeExchange;
}> {
  const clock = manualClock();
  const ex = createFakeExchange(clock.now);
  const h = await startHarness({ exchange: ex, now: clock.now, ...options });
  harnesses.push(h);
  return { h, clock, ex };
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

/** The status and body of a refused upgrade. */
function refusedUpgrade(url: string): Promise<{ status: number; body: string; remainingReq: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => reject(new Error("upgrade accepted")));
    ws.on("error", () => {});
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => {
        const header = res.headers["remaining-req"];
        resolve({ status: res.statusCode ?? 0, body, remainingReq: Array.isArray(header) ? header[0] : header });
      });
    });
  });
}

describe("connection rate limit", () => {
  it("refuses the upgrade with 429 over the per-IP limit and accepts again in the next second", async () => {
    const { h, clock } = await setup({ connectLimitPerSecond: 3 });
    const remaining: (string | string[] | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(h.url);
      ws.once("upgrade", (res) => remaining.push(res.headers["remaining-req"]));
      await new Promise((resolve) => ws.once("open", resolve));
      ws.terminate();
    }
    // Like Upbit's upgrade reply (API.md §3): what is left of this second's budget.
    expect(remaining).toEqual([2, 1, 0].map((n) => `group=websocket; min=300; sec=${n}`));
    const refused = await refusedUpgrade(h.url);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({ error: { name: 429, message: expect.any(String) } });
    expect(refused.remainingReq).toBe("group=websocket; min=300; sec=0");
    expect(h.api.stats().rejectedConnections).toBe(1);
    clock.advance(1_000);
    const again = await h.connect();
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("idle timeout", () => {
  it("drops a silent connection (1006) while PING heartbeats and protocol pings keep others alive", async () => {
    const { h, clock } = await setup({ idleTimeoutMs: 30_000 });
    const silent = await h.connect();
    const heartbeat = await h.connect();
    const pinger = await h.connect();
    heartbeat.send("PING");
    expect(isStatusUp((await heartbeat.next()).json)).toBe(true);
    for (let step = 0; step < 3; step++) {
      clock.advance(10_000);
      const pong = new Promise<void>((resolve) => pinger.ws.once("pong", () => resolve()));
      pinger.ws.ping();
      await pong;
      expect(isStatusUp((await heartbeat.next()).json)).toBe(true);
    }
    expect((await silent.closed).code).toBe(1006);
    expect(heartbeat.ws.readyState).toBe(WebSocket.OPEN);
    expect(pinger.ws.readyState).toBe(WebSocket.OPEN);
    expect(await heartbeat.drain()).toEqual([]);
  });
});

describe("faults", () => {
  it("disconnectEveryMs drops every connection abruptly every N ms of clock time, until cleared", async () => {
    const { h, clock, ex } = await setup();
    const a = await h.connect();
    const b = await h.connect();
    h.api.setFaults({ disconnectEveryMs: 5_000 });
    clock.advance(5_000);
    expect((await a.closed).code).toBe(1006);
    expect((await b.closed).code).toBe(1006);

    const c = await h.connect();
    c.send([{ ticket: "t" }, { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true }]);
    clock.advance(5_000);
    expect((await c.closed).code).toBe(1006);

    h.api.setFaults({ disconnectEveryMs: undefined });
    const d = await h.connect();
    d.send([{ ticket: "t" }, { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true }]);
    await d.drain(); // subscribed
    const from = clock.now();
    clock.advance(5_000);
    // The trades arrive: the tick that would have dropped the connection ran and did not.
    const expected = ex.trades("KRW-BTC", from + 1, from + 5_001).length;
    expect((await d.take(expected)).every((m) => obj(m).type === "trade")).toBe(true);
    expect(d.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("stall keeps connections open but sends nothing (no data, no UP, no pong) until lifted", async () => {
    const { h, clock, ex } = await setup({ idleTimeoutMs: 2_000 });
    const client = await h.connect();
    client.send([{ ticket: "t" }, { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true }]);
    await client.drain();
    h.api.setFaults({ stall: true });
    const framesBefore = h.api.stats().framesSent;
    let ponged = false;
    client.ws.once("pong", () => (ponged = true));
    const received = h.api.stats().messagesReceived;
    client.ws.ping();
    client.send("PING");
    // The PING must reach the server while stalled (else it would rightly be answered later).
    await vi.waitFor(() => expect(h.api.stats().messagesReceived).toBe(received + 1));
    clock.advance(5_000); // trades happen; also far past the idle timeout
    await ex.tradesQueriedPast(T0 + 5_000); // a feed tick ran at the new time
    expect(h.api.stats().framesSent).toBe(framesBefore);
    expect(client.pending).toBe(0);
    expect(ponged).toBe(false);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);

    h.api.setFaults({ stall: false });
    clock.advance(1_000);
    // What happened during the stall is gone; the feed resumes with new trades.
    const expected = ex.trades("KRW-BTC", T0 + 5_001, T0 + 6_001);
    const got = await client.take(expected.length);
    expect(got.map((m) => obj(m).trade_timestamp)).toEqual(expected.map((t) => t.timestampMs));
  });
});

describe("slow consumer", () => {
  it("drops a connection whose unsent frames pile up instead of buffering without bound", async () => {
    const { h, clock, ex } = await setup();
    const client = await h.connect();
    client.send([{ ticket: "t" }, { type: "trade", codes: ["KRW-BTC", "KRW-ETH"], is_only_realtime: true }]);
    await client.drain();
    // One tick then has tens of MB of trades for this client: far more than it may queue.
    const hour = 60 * 60 * 1_000;
    clock.advance(hour);
    const total = ex.trades("KRW-BTC", T0 + 1, T0 + hour + 1).length + ex.trades("KRW-ETH", T0 + 1, T0 + hour + 1).length;
    expect((await client.closed).code).toBe(1006);
    expect(client.pending).toBeLessThan(total);
    // The server notices its own close a moment after the client does; no event exposes it.
    await vi.waitFor(() => expect(h.api.stats().connections).toBe(0));
  });
});

describe("stats, reset and close", () => {
  it("counts connections, subscriptions, messages and frames; reset clears counters only", async () => {
    const { h } = await setup();
    const a = await h.connect();
    a.send([{ ticket: "t" }, { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] }, { type: "orderbook", codes: ["KRW-BTC"] }]);
    await a.take(3);
    expect(h.api.stats()).toEqual({ connections: 1, subscriptions: 3, messagesReceived: 1, framesSent: 3, rejectedConnections: 0 });
    h.api.setFaults({ stall: true });
    h.api.reset();
    expect(h.api.stats()).toEqual({ connections: 1, subscriptions: 3, messagesReceived: 0, framesSent: 0, rejectedConnections: 0 });
    a.send("PING"); // the stall fault was cleared too
    expect(isStatusUp((await a.next()).json)).toBe(true);
  });

  it("close() ends every connection with 1001 and stops accepting", async () => {
    const { h } = await setup();
    const a = await h.connect();
    const b = await h.connect();
    await h.api.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(h.api.stats().connections).toBe(0);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(h.url);
        ws.on("open", resolve);
        ws.on("error", reject);
      }),
    ).rejects.toThrow();
  });
});
