import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import {
  createFakeExchange,
  isStatusUp,
  manualClock,
  obj,
  startHarness,
  type WsHarness,
  type WsTestClient,
} from "./ws-test-support.js";
import {
  WS_ERROR_INVALID_PARAM,
  WS_ERROR_NO_TICKET,
  WS_ERROR_WRONG_FORMAT,
  WS_STATUS_UP,
} from "./ws-fixtures.js";

const harnesses: WsHarness[] = [];

async function setup(options: { messageLimitPerSecond?: number } = {}): Promise<{
  h: WsHarness;
  clock: ReturnType<typeof manualClock>;
  client: WsTestClient;
}> {
  const clock = manualClock();
  const h = await startHarness({ exchange: createFakeExchange(clock.now), now: clock.now, ...options });
  harnesses.push(h);
  return { h, clock, client: await h.connect() };
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

describe("request errors", () => {
  const cases: { name: string; send: string; expected: unknown }[] = [
    { name: "plain text", send: "hello", expected: WS_ERROR_WRONG_FORMAT },
    { name: "a JSON object", send: '{"ticket":"x","type":"ticker"}', expected: WS_ERROR_WRONG_FORMAT },
    { name: "no ticket", send: '[{"type":"ticker","codes":["KRW-BTC"]}]', expected: WS_ERROR_NO_TICKET },
    { name: "unknown type", send: '[{"ticket":"x"},{"type":"nope","codes":["KRW-BTC"]}]', expected: WS_ERROR_INVALID_PARAM },
  ];
  for (const c of cases) {
    it(`answers ${c.name} with the recorded error frame, then closes 1000 ~150 ms later`, async () => {
      const { client } = await setup();
      client.send(c.send);
      const m = await client.next();
      const sentAt = performance.now();
      expect(m.isBinary).toBe(true);
      expect(m.json).toEqual(c.expected);
      const closed = await client.closed;
      expect(closed.code).toBe(1000);
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(100);
    });
  }

  it("uses NO_TYPE and NO_CODES names", async () => {
    const a = await setup();
    a.client.send([{ ticket: "x" }, { format: "SIMPLE" }]);
    expect(obj(await a.client.next()).error).toMatchObject({ name: "NO_TYPE" });
    const b = await setup();
    b.client.send([{ ticket: "x" }, { type: "trade" }]);
    expect(obj(await b.client.next()).error).toMatchObject({ name: "NO_CODES" });
    expect((await b.client.closed).code).toBe(1000);
  });

  it("ignores further requests once an error was sent", async () => {
    const { client } = await setup();
    client.send("hello");
    client.send([{ ticket: "x" }, { type: "ticker", codes: ["KRW-BTC"] }]);
    await client.next();
    await client.closed;
    expect(client.pending).toBe(0);
  });
});

describe("keep-alive", () => {
  it("answers a text PING with UP, then sends UP every 10 s of clock time", async () => {
    const { client, clock } = await setup();
    client.send("PING");
    const first = await client.next();
    expect(first.json).toEqual(WS_STATUS_UP);
    clock.advance(10_000);
    expect((await client.next()).json).toEqual(WS_STATUS_UP);
    clock.advance(10_000);
    expect((await client.next()).json).toEqual(WS_STATUS_UP);
  });

  it("answers a protocol ping with a pong", async () => {
    const { client } = await setup();
    const pong = new Promise<Buffer>((resolve) => client.ws.once("pong", resolve));
    client.ws.ping(Buffer.from("hi"));
    expect((await pong).toString()).toBe("hi");
  });
});

describe("LIST_SUBSCRIPTIONS", () => {
  it("lists the current subscription in the documented shape, with the request's ticket", async () => {
    const { client } = await setup();
    client.send([{ ticket: "t1" }, { method: "LIST_SUBSCRIPTIONS" }]);
    expect((await client.next()).json).toEqual({ method: "LIST_SUBSCRIPTIONS", result: [], ticket: "t1" });
    client.send([
      { ticket: "t2" },
      { type: "ticker", codes: ["KRW-BTC", "KRW-ETH", "krw-xrp", "KRW-NOPE"], is_only_realtime: true },
      { type: "orderbook", codes: ["KRW-BTC.5", "KRW-ETH"], is_only_realtime: true },
    ]);
    client.send([{ ticket: "t3" }, { method: "LIST_SUBSCRIPTIONS" }]);
    const reply = await client.until((m) => "method" in obj(m));
    expect(reply.at(-1)?.json).toEqual({
      method: "LIST_SUBSCRIPTIONS",
      result: [
        { type: "ticker", codes: ["KRW-BTC", "KRW-ETH"] },
        { type: "orderbook", codes: ["KRW-BTC.5", "KRW-ETH"], level: 0 },
      ],
      ticket: "t3",
    });
  });

  it("uses SIMPLE keys on a SIMPLE connection", async () => {
    const { client } = await setup();
    client.send([{ ticket: "a" }, { type: "trade", codes: ["KRW-BTC"], is_only_realtime: true }, { format: "SIMPLE" }]);
    client.send([{ ticket: "b" }, { method: "LIST_SUBSCRIPTIONS" }]);
    const reply = await client.until((m) => "mthd" in obj(m));
    expect(reply.at(-1)?.json).toEqual({ mthd: "LIST_SUBSCRIPTIONS", rslt: [{ ty: "trade", cds: ["KRW-BTC"] }], tckt: "b" });
  });
});

describe("message rate limit", () => {
  it("sends TOO_MANY_REQUESTS and closes 1000 on the message over the per-second limit", async () => {
    const { client, clock } = await setup({ messageLimitPerSecond: 3 });
    for (let i = 0; i < 3; i++) client.send("PING");
    expect((await client.take(3)).every((m) => isStatusUp(m.json))).toBe(true);
    clock.advance(1_000); // a new second: the budget is back
    for (let i = 0; i < 4; i++) client.send("PING");
    const replies = await client.take(4);
    expect(replies.slice(0, 3).every((m) => isStatusUp(m.json))).toBe(true);
    expect(obj(replies[3]!).error).toMatchObject({ name: "TOO_MANY_REQUESTS" });
    expect((await client.closed).code).toBe(1000);
  });
});
