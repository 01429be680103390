import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import fc from "fast-check";
import { Agent, request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createLogger } from "../../src/shared/logger.js";
import { DEFAULT_SIMULATOR_CONFIG, type SimulatorConfig } from "../../src/upbit-sim/config.js";
import { type Simulator, createSimulator } from "../../src/upbit-sim/simulator.js";

/** 2026-03-11 14:40:59.500 UTC: the moment the fixtures were recorded. */
const NOW = Date.UTC(2026, 2, 11, 14, 40, 59, 500);
const CONFIG: SimulatorConfig = { ...DEFAULT_SIMULATOR_CONFIG, port: 0, markets: 30 };
const MAIN = new URL("../../src/upbit-sim/main.ts", import.meta.url).pathname;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  ms: number;
}

type Row = Record<string, unknown>;

const agent = new Agent({ connections: 8 });

async function call(base: string, path: string, init: { method?: "GET" | "POST"; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const started = performance.now();
  const res = await request(`${base}${path}`, { method: init.method ?? "GET", body: init.body, headers: init.headers, dispatcher: agent });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json, ms: performance.now() - started };
}

describe("simulator REST", () => {
  const clock = { ms: NOW };
  let sim: Simulator;
  let base: string;
  let wsUrl: string;
  const get = (path: string, headers?: Record<string, string>): Promise<Answer> => call(base, path, { headers });
  const post = (path: string, body: unknown): Promise<Answer> =>
    call(base, path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
  /** The next clock second: a fresh rate-limit window. */
  const nextSecond = (): void => {
    clock.ms = (Math.floor(clock.ms / 1000) + 1) * 1000 + 500;
  };

  beforeAll(async () => {
    sim = createSimulator(CONFIG, { now: () => clock.ms, log: createLogger("upbit-sim-rest", "error") });
    ({ restUrl: base, wsUrl } = await sim.start());
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(async () => {
    clock.ms = NOW;
    expect((await post("/_sim/reset", {})).status).toBe(200);
  });

  describe("endpoints", () => {
    it("answer with Upbit's headers and rate group", async () => {
      const cases: [string, string][] = [
        ["/v1/market/all", "market"],
        ["/v1/candles/minutes/1?market=KRW-BTC", "candles"],
        ["/v1/ticker?markets=KRW-BTC", "ticker"],
        ["/v1/orderbook?markets=KRW-BTC", "orderbook"],
        ["/v1/trades/ticks?market=KRW-BTC", "crix-trades"],
      ];
      for (const [path, group] of cases) {
        const a = await get(path);
        expect(a.status).toBe(200);
        expect(a.headers["remaining-req"]).toBe(`group=${group}; min=600; sec=9`);
        expect(a.headers["limit-by-ip"]).toBe("Yes");
        expect(a.headers["content-type"]).toBe("application/json;charset=UTF-8");
        expect(a.headers.etag).toMatch(/^W\/"0[0-9a-f]{32}"$/);
        expect(Array.isArray(a.json)).toBe(true);
      }
    });

    it("page minute candles back with `to` = oldest candle time: contiguous, newest first", async () => {
      const whole = ((await get("/v1/candles/minutes/1?market=KRW-BTC&count=200")).json as Row[]).map((r) => r.candle_date_time_utc as string);
      expect(whole).toHaveLength(200);
      const paged: string[] = [];
      let to = "";
      for (let page = 0; page < 4; page++) {
        nextSecond();
        const rows = (await get(`/v1/candles/minutes/1?market=KRW-BTC&count=50${to}`)).json as Row[];
        paged.push(...rows.map((r) => r.candle_date_time_utc as string));
        to = `&to=${encodeURIComponent(`${paged[paged.length - 1]!}Z`)}`;
      }
      expect(paged).toEqual(whole);
      expect([...whole].sort().reverse()).toEqual(whole);
      expect(new Set(whole).size).toBe(200);
    });

    it("accept a KST `to` with an encoded offset and refuse an unencoded one", async () => {
      const utc = await get("/v1/candles/minutes/5?market=KRW-BTC&count=3&to=2026-03-11T12:00:00Z");
      const kst = await get("/v1/candles/minutes/5?market=KRW-BTC&count=3&to=2026-03-11T21:00:00%2B09:00");
      expect(kst.text).toBe(utc.text);
      expect((utc.json as Row[])[0]!.candle_date_time_utc).toBe("2026-03-11T11:55:00");
      const raw = await get("/v1/candles/minutes/5?market=KRW-BTC&to=2026-03-11T21:00:00+09:00");
      expect(raw.status).toBe(400);
    });

    it("fail like Upbit: unknown code, missing parameter, type mismatch, unknown route", async () => {
      const unknown = await get("/v1/orderbook?markets=KRW-BTC,KRW-NOPE");
      expect([unknown.status, unknown.json]).toEqual([404, { error: { name: 404, message: "Code not found" } }]);
      expect(unknown.headers["remaining-req"]).toBe("group=orderbook; min=600; sec=9");
      const missing = await get("/v1/orderbook");
      expect([missing.status, missing.json]).toEqual([400, { error: { name: 400, message: "Missing request parameter error. Check the required parameters!" } }]);
      const mismatch = await get("/v1/orderbook?markets=KRW-BTC&count=abc");
      expect([mismatch.status, mismatch.json]).toEqual([400, { error: { name: 400, message: "Type mismatch error. Check the parameters type!" } }]);
      const route = await get("/v1/nope");
      expect([route.status, route.json]).toEqual([404, { error: { name: "not_found", message: "no Route matched with those values" } }]);
      expect(route.headers["remaining-req"]).toBeUndefined();
      const tooMany = await get("/v1/candles/days?market=KRW-BTC&count=201");
      expect([tooMany.status, tooMany.json]).toEqual([400, { error: { name: 400, message: "Invalid parameter. Check the given value!" } }]);
    });

    it("serve lower-case codes, clamp the orderbook count and answer [] for an unsupported level", async () => {
      expect(((await get("/v1/ticker?markets=krw-btc")).json as Row[])[0]!.market).toBe("KRW-BTC");
      const book = ((await get("/v1/orderbook?markets=KRW-BTC&count=50")).json as Row[])[0]!;
      expect((book.orderbook_units as Row[]).length).toBe(30);
      const instruments = (await get("/v1/orderbook/instruments?markets=BTC-ETH")).json as Row[];
      expect(instruments[0]!.supported_levels).toEqual(["0"]);
      const level = await get("/v1/orderbook?markets=BTC-ETH&level=100");
      expect([level.status, level.json]).toEqual([200, []]);
    });

    it("write sequential_id as the exact integer", async () => {
      const a = await get("/v1/trades/ticks?market=KRW-BTC&count=20");
      const ids = [...a.text.matchAll(/"sequential_id":(\d+)[,}]/g)].map((m) => BigInt(m[1]!));
      const rows = a.json as Row[];
      expect(ids).toHaveLength(20);
      rows.forEach((r, i) => expect(ids[i]! / 10_000n).toBe(BigInt(r.timestamp as number)));
      expect(ids.some((id) => id % 10_000n !== 0n) || ids.every((id) => id > 2n ** 53n)).toBe(true);
    });

    it("gzip large bodies when asked", async () => {
      const a = await call(base, "/v1/market/all?is_details=true", { headers: { "accept-encoding": "gzip" } });
      expect(a.headers["content-encoding"]).toBe("gzip");
    });

    it("never answer a 5xx or crash, whatever the query string", async () => {
      const paths = ["/v1/candles/minutes/1", "/v1/candles/days", "/v1/candles/seconds", "/v1/ticker", "/v1/orderbook", "/v1/trades/ticks", "/v1/market/all"];
      const param = fc.tuple(
        fc.constantFrom("market", "markets", "count", "to", "level", "cursor", "days_ago", "is_details", "x"),
        fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("KRW-BTC", "krw-eth", "30", "-1", "2026-03-11T00:00:00Z", "141500")),
      );
      const query = fc.oneof(
        fc.array(param, { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString()),
        fc.string({ maxLength: 30 }).map((s) => encodeURI(s).replaceAll("#", "%23")),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), query, async (path, q) => {
          nextSecond();
          const a = await get(`${path}?${q}`);
          expect(a.status === 200 || (a.status >= 400 && a.status < 500)).toBe(true);
          if (a.status === 200) expect(Array.isArray(a.json)).toBe(true);
          else expect(a.json).toEqual({ error: { name: a.status, message: expect.any(String) as string } });
        }),
        { numRuns: 80 },
      );
    });
  });

  describe("rate limits", () => {
    it("count down `sec` 9..0 within one second, refuse the 11th with 429, then block with 418", async () => {
      const secs: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = await get("/v1/candles/minutes/1?market=KRW-BTC");
        expect(a.status).toBe(200);
        secs.push(String(a.headers["remaining-req"]));
      }
      expect(secs).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((s) => `group=candles; min=600; sec=${s}`));
      const refused = await get("/v1/candles/minutes/1?market=KRW-BTC");
      expect([refused.status, refused.json]).toEqual([429, { error: { name: 429, message: "Too many requests" } }]);
      expect(refused.headers["remaining-req"]).toBe("group=candles; min=600; sec=0");
      // Other groups keep their own budget.
      expect((await get("/v1/ticker?markets=KRW-BTC")).status).toBe(200);

      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get("/v1/candles/minutes/1?market=KRW-BTC")).status);
      expect(statuses).toEqual([429, 429, 429, 429, 429, 418]);
      nextSecond();
      const blocked = await get("/v1/ticker?markets=KRW-BTC");
      expect(blocked.status).toBe(418);
      expect(blocked.json).toEqual({ error: { name: 418, message: expect.stringMatching(/\b9 seconds\b/) as string } });
      expect(blocked.headers["retry-after"]).toBeUndefined();
      clock.ms += 10_000;
      expect((await get("/v1/ticker?markets=KRW-BTC")).status).toBe(200);

      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row> };
      expect(stats.groups.candles).toEqual({ requests: 17, rejected_429: 6, max_per_second: 10 });
    });

    it("never accept more than the limit in any second under a burst", async () => {
      for (let second = 0; second < 3; second++) {
        nextSecond();
        // Two over the limit each second: refused, but not hammering hard enough for a block.
        const answers = await Promise.all(Array.from({ length: 12 }, () => get("/v1/ticker?markets=KRW-BTC")));
        expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
        expect(answers.filter((a) => a.status === 429)).toHaveLength(2);
      }
      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row> };
      expect(stats.groups.ticker).toEqual({ requests: 36, rejected_429: 6, max_per_second: 10 });
    });

    it("put requests with an Origin header in the shared 1-per-10-s origin group", async () => {
      const first = await get("/v1/ticker?markets=KRW-BTC", { origin: "https://example.test" });
      expect(first.status).toBe(200);
      expect(first.headers["remaining-req"]).toBe("group=origin; min=6; sec=0");
      clock.ms = NOW - 9_000; // same 10-second window, another second
      expect((await get("/v1/candles/days?market=KRW-BTC", { origin: "https://example.test" })).status).toBe(429);
      expect((await get("/v1/candles/days?market=KRW-BTC")).status).toBe(200);
    });
  });

  describe("admin", () => {
    it("reports stats in exactly the documented shape", async () => {
      await get("/v1/market/all");
      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row>; websocket: Row };
      expect(Object.keys(stats).sort()).toEqual(["groups", "websocket"]);
      expect(Object.keys(stats.groups).sort()).toEqual(["candles", "crix-trades", "market", "orderbook", "origin", "ticker"]);
      expect(stats.groups.market).toEqual({ requests: 1, rejected_429: 0, max_per_second: 1 });
      expect(stats.websocket).toMatchObject({ connections: 0, subscriptions: 0 });
    });

    it("injects a deterministic share of 5xx answers, JSON and not", async () => {
      expect((await post("/_sim/faults", { errorRate: 0.5 })).status).toBe(200);
      const run = async (): Promise<string> => {
        const outcomes: string[] = [];
        for (let i = 0; i < 60; i++) {
          if (i % 10 === 0) nextSecond();
          const a = await get("/v1/ticker?markets=KRW-BTC");
          outcomes.push(a.status === 200 ? "ok" : a.json === undefined ? `${a.status}-html` : `${a.status}-json`);
          if (a.status === 500 && a.json !== undefined) expect(a.json).toEqual({ error: { name: 500, message: expect.any(String) as string } });
        }
        return outcomes.join(",");
      };
      const first = await run();
      const failures = first.split(",").filter((o) => o !== "ok");
      expect(failures.length).toBeGreaterThan(15);
      expect(failures.length).toBeLessThan(45);
      expect(new Set(failures)).toEqual(new Set(["500-json", "500-html"]));
      // Same seed after a reset: the same requests fail.
      await post("/_sim/reset", {});
      clock.ms = NOW;
      await post("/_sim/faults", { errorRate: 0.5 });
      expect(await run()).toBe(first);
    });

    it("answers the next n requests with 429 on a burst, then serves again", async () => {
      await post("/_sim/faults", { burst429: { count: 3 } });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await get("/v1/orderbook?markets=KRW-BTC")).status);
      expect(statuses).toEqual([429, 429, 429, 200, 200]);
      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row> };
      expect(stats.groups.orderbook).toMatchObject({ requests: 5, rejected_429: 3 });
    });

    it("delays answers by the injected latency, and reset removes it", async () => {
      await post("/_sim/faults", { latencyMs: 150 });
      expect((await get("/v1/market/all")).ms).toBeGreaterThanOrEqual(145);
      expect(((await get("/_sim/faults")).json as Row).latencyMs).toBe(150);
      await post("/_sim/reset", {});
      expect((await get("/v1/market/all")).ms).toBeLessThan(145);
      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row> };
      expect(stats.groups.market).toEqual({ requests: 1, rejected_429: 0, max_per_second: 1 });
    });

    it("refuses malformed fault requests", async () => {
      for (const body of ["{", "[]", { errorRate: 2 }, { burst429: 5 }, { unknown: true }, { wsStall: "yes" }]) {
        const a = await post("/_sim/faults", body);
        expect(a.status).toBe(400);
        expect(a.json).toEqual({ error: { name: 400, message: expect.any(String) as string } });
      }
      expect((await post("/_sim/faults", { wsDisconnectEveryMs: 5_000, wsStall: false })).status).toBe(200);
    });
  });

  describe("WebSocket upgrade", () => {
    it("counts an upgrade carrying Origin against the origin group REST shares: 1 per 10 s", async () => {
      const upgradeStatus = (headers: Record<string, string>) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(wsUrl, { headers });
          ws.on("error", () => {});
          ws.once("open", () => {
            ws.terminate();
            resolve(101);
          });
          ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        });
      expect(await upgradeStatus({ origin: "https://example.test" })).toBe(101);
      // Same 10-second window: neither REST nor another socket with Origin gets through.
      expect((await get("/v1/ticker?markets=KRW-BTC", { origin: "https://example.test" })).status).toBe(429);
      expect(await upgradeStatus({ origin: "https://example.test" })).toBe(429);
      expect(await upgradeStatus({})).toBe(101);
      const stats = (await get("/_sim/stats")).json as { groups: Record<string, Row> };
      expect(stats.groups.origin).toMatchObject({ requests: 3, rejected_429: 2 });
    });

    it("is routed on /websocket/v1 and refused elsewhere", async () => {
      const ws = new WebSocket(wsUrl);
      const first = new Promise<Buffer>((resolve, reject) => {
        ws.once("message", (data: Buffer) => resolve(data));
        ws.once("error", reject);
      });
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      ws.send(JSON.stringify([{ ticket: "t" }, { type: "ticker", codes: ["KRW-BTC"], is_only_snapshot: true }]));
      const message = JSON.parse((await first).toString()) as Row;
      expect(message.code).toBe("KRW-BTC");
      const stats = (await get("/_sim/stats")).json as { websocket: Row };
      expect(stats.websocket.connections).toBe(1);
      const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      ws.close();
      await closed;

      const elsewhere = new WebSocket(wsUrl.replace("/websocket/v1", "/websocket/v2"));
      elsewhere.on("error", () => {}); // terminate() below reports the aborted handshake as an error
      const status = await new Promise<number | undefined>((resolve) => {
        elsewhere.once("unexpected-response", (_req, res) => resolve(res.statusCode));
        elsewhere.once("open", () => resolve(undefined));
      });
      elsewhere.terminate();
      expect(status).toBe(404);
    });
  });
});

describe("determinism", () => {
  it("two simulators with the same seed and clock answer byte for byte the same", async () => {
    const sims = [1, 1, 2].map((seed) => createSimulator({ ...CONFIG, seed }, { now: () => NOW }));
    try {
      const urls = await Promise.all(sims.map((s) => s.start()));
      const path = "/v1/candles/minutes/1?market=KRW-ETH&count=200&to=2026-03-10T06:00:00Z";
      const [a, b, c] = await Promise.all(urls.map((u) => call(u.restUrl, path)));
      expect(a!.status).toBe(200);
      expect(b!.text).toBe(a!.text);
      expect(c!.text).not.toBe(a!.text);
      const ticks = await Promise.all(urls.slice(0, 2).map((u) => call(u.restUrl, "/v1/trades/ticks?market=KRW-ETH&count=50&days_ago=1")));
      expect(ticks[1]!.text).toBe(ticks[0]!.text);
    } finally {
      await Promise.all(sims.map((s) => s.stop()));
    }
  });
});

describe("npm run sim (main.ts)", () => {
  function launch(args: string[]) {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
    return { child, exited, stderr: () => stderr };
  }

  it("prints one listening line, serves, and exits 0 on SIGTERM", async () => {
    const p = launch(["--port", "0", "--markets", "5"]);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: p.child.stdout }).once("line", resolve);
      void p.exited.then((code) => reject(new Error(`exited ${code}: ${p.stderr()}`)));
    });
    const event = JSON.parse(line) as { event: string; restUrl: string; wsUrl: string };
    expect(event.event).toBe("listening");
    expect(event.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/websocket\/v1$/);
    expect((await call(event.restUrl, "/v1/market/all")).status).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("exits 1 with a message on a bad flag", async () => {
    const p = launch(["--port", "nope"]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/--port="nope": must be an integer/);
  });
});

afterAll(async () => {
  await agent.close();
});
