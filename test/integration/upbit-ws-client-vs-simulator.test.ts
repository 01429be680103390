/**
 * The gateway's Upbit WebSocket client against the real simulator: ticker streams in DEFAULT and
 * SIMPLE format say the same thing, agree with the simulator's REST ticker and trades, and
 * survive the simulator's periodic disconnect fault by reconnecting and resubscribing, with a
 * sane gap window.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpbitRestClient } from "../../src/gateway/upstream/upbit-rest-client.js";
import type { UpbitTicker } from "../../src/gateway/upstream/upbit-types.js";
import {
  createUpbitWebSocketClient,
  type UpbitWebSocketClient,
  type UpbitWebSocketDisconnect,
  type UpbitWebSocketFormat,
  type UpbitWebSocketReconnect,
} from "../../src/gateway/upstream/upbit-websocket-client.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import { type Simulator, createSimulator } from "../../src/upbit-sim/simulator.js";

/** Five of the busiest KRW pairs of the synthetic universe: several trades a minute each. */
const MARKETS = ["KRW-XRP", "KRW-BTC", "KRW-ICP", "KRW-ETH", "KRW-USDT"] as const;
/** Longest any wait for stream data may take before the test fails instead of hanging. */
const WAIT_LIMIT_MS = 15_000;
/** How often the disconnect fault drops every connection. */
const DISCONNECT_EVERY_MS = 1_000;

/** Everything one client emitted, with a way to wait for a condition on it. */
class Recorder {
  readonly tickers: Array<{ ticker: UpbitTicker; atMs: number }> = [];
  readonly disconnects: UpbitWebSocketDisconnect[] = [];
  readonly reconnects: Array<UpbitWebSocketReconnect & { tickersBefore: number }> = [];
  private readonly checks = new Set<() => void>();

  constructor(readonly client: UpbitWebSocketClient) {
    client.on("ticker", (ticker) => {
      this.tickers.push({ ticker, atMs: Date.now() });
      this.poke();
    });
    client.on("disconnect", (e) => {
      this.disconnects.push(e);
      this.poke();
    });
    // The reconnect event comes before the tickers of the frame that ended the gap.
    client.on("reconnect", (e) => {
      this.reconnects.push({ ...e, tickersBefore: this.tickers.length });
      this.poke();
    });
  }

  /** Resolves once `done()` holds, re-checked on every event; rejects after WAIT_LIMIT_MS. */
  until(what: string, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        this.checks.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, WAIT_LIMIT_MS);
      this.checks.add(check);
    });
  }

  marketsSeen(from = 0): Set<string> {
    return new Set(this.tickers.slice(from).map((t) => t.ticker.market));
  }

  find(market: string, tradeTimestampMs: number): UpbitTicker | undefined {
    return this.tickers.find((t) => t.ticker.market === market && t.ticker.tradeTimestampMs === tradeTimestampMs)?.ticker;
  }

  private poke(): void {
    for (const check of [...this.checks]) check();
  }
}

/** A ticker without what legitimately differs between two messages about the same trade. */
/**
 * What two tickers about the same last trade must share. The 24 h sums roll with the clock: a
 * snapshot built at connect time and a realtime message built at the trade's time may straddle a
 * trade leaving the 24 h window, so they are left out, like the message's own time.
 */
function tradeView(t: UpbitTicker): Omit<UpbitTicker, "timestampMs" | "streamType" | "accTradePrice24h" | "accTradeVolume24h"> {
  const { timestampMs: _stored, streamType: _stream, accTradePrice24h: _p24, accTradeVolume24h: _v24, ...rest } = t;
  return rest;
}

/** The fields REST and WebSocket must agree on for the same last trade (24 h sums roll with the clock). */
const REST_COMPARABLE = [
  "market",
  "tradeTimestampMs",
  "tradePrice",
  "tradeVolume",
  "openingPrice",
  "highPrice",
  "lowPrice",
  "prevClosingPrice",
  "change",
  "changePrice",
  "signedChangePrice",
  "signedChangeRate",
  "accTradeVolume",
  "accTradePrice",
  "highest52WeekPrice",
  "lowest52WeekPrice",
] as const satisfies ReadonlyArray<keyof UpbitTicker>;
/** REST writes amounts with 8 fractional digits and rates with 10 (API.md §6.3); the stream may carry more. */
const REST_AMOUNT_QUANTUM = 1e-8;

function expectSameTicker(ws: UpbitTicker, rest: UpbitTicker): void {
  for (const key of REST_COMPARABLE) {
    const w = ws[key];
    const r = rest[key];
    const label = `${rest.market} ${key}: WebSocket ${String(w)} vs REST ${String(r)}`;
    if (typeof w === "number" && typeof r === "number") {
      expect(Math.abs(w - r), label).toBeLessThanOrEqual(REST_AMOUNT_QUANTUM / 2 + 1e-12 * Math.abs(r));
    } else {
      expect(w, label).toBe(r);
    }
  }
}

describe("Upbit WebSocket client vs the simulator", () => {
  let sim: Simulator;
  let restUrl: string;
  let wsUrl: string;
  let rest: UpbitRestClient;
  const recorders = new Map<UpbitWebSocketFormat, Recorder>();
  const testStartMs = Date.now();

  beforeAll(async () => {
    sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, markets: 30 });
    ({ restUrl, wsUrl } = await sim.start());
    rest = new UpbitRestClient({ baseUrl: restUrl });
    for (const format of ["DEFAULT", "SIMPLE"] as const) {
      const client = createUpbitWebSocketClient({ url: wsUrl, format, reconnectBaseMs: 100, reconnectMaxMs: 1_000 });
      recorders.set(format, new Recorder(client));
    }
  });
  afterAll(async () => {
    await Promise.all([...recorders.values()].map((r) => r.client.close()));
    await rest.close();
    await sim.stop();
  });

  const recorder = (format: UpbitWebSocketFormat): Recorder => {
    const r = recorders.get(format);
    if (r === undefined) throw new Error(`no ${format} client`);
    return r;
  };

  async function setFaults(body: unknown): Promise<void> {
    const res = await fetch(`${restUrl}/_sim/faults`, { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  }

  it("tickers of 5 markets arrive in DEFAULT and SIMPLE format, agree with each other and with REST ticker and trades", async () => {
    const def = recorder("DEFAULT");
    const simple = recorder("SIMPLE");
    for (const r of [def, simple]) r.client.setSubscriptions([{ type: "ticker", codes: [...MARKETS] }]);

    // Both clients have each market, and for each market a message about the same trade.
    const sharedTrade = (market: string): UpbitTicker | undefined =>
      def.tickers.map((t) => t.ticker).find((t) => t.market === market && simple.find(market, t.tradeTimestampMs) !== undefined);
    const allShared = (): boolean => MARKETS.every((m) => sharedTrade(m) !== undefined);
    await Promise.all([def.until("DEFAULT tickers of shared trades", allShared), simple.until("SIMPLE tickers of shared trades", allShared)]);
    for (const r of [def, simple]) {
      expect(r.marketsSeen()).toEqual(new Set(MARKETS));
      expect(r.tickers[0]?.ticker.streamType).toBe("SNAPSHOT");
      // Only the markets asked for.
      for (const { ticker } of r.tickers) expect(MARKETS).toContain(ticker.market);
    }
    for (const market of MARKETS) {
      const d = sharedTrade(market)!;
      const s = simple.find(market, d.tradeTimestampMs)!;
      expect(tradeView(s), `${market}: SIMPLE vs DEFAULT`).toEqual(tradeView(d));
      expect(d.tradePrice).toBeGreaterThan(0);
    }

    // REST at about the same time: the same last trade as the stream, once the stream has caught up with it.
    const restTickers = await rest.tickers([...MARKETS], { priority: "NORMAL" });
    expect(new Set(restTickers.map((t) => t.market))).toEqual(new Set(MARKETS));
    const latestStreamed = (market: string): number =>
      Math.max(...def.tickers.filter((t) => t.ticker.market === market).map((t) => t.ticker.tradeTimestampMs));
    for (const r of restTickers) expect(r.tradeTimestampMs).toBeGreaterThanOrEqual(latestStreamed(r.market));
    await def.until("the stream to reach REST's last trades", () => restTickers.every((r) => def.find(r.market, r.tradeTimestampMs) !== undefined));
    for (const r of restTickers) {
      const w = def.find(r.market, r.tradeTimestampMs)!;
      expectSameTicker(w, r);
    }

    // And every streamed price is a trade the simulator's REST trades endpoint knows.
    for (const market of MARKETS) {
      const streamed = def.tickers.filter((t) => t.ticker.market === market).map((t) => t.ticker);
      const trades = await rest.trades(market, { count: 200 }, { priority: "NORMAL" });
      const oldest = trades[trades.length - 1]?.tradeTimestampMs ?? Number.POSITIVE_INFINITY;
      for (const t of streamed.filter((x) => x.tradeTimestampMs >= oldest)) {
        const trade = trades.find((x) => x.tradeTimestampMs === t.tradeTimestampMs && x.tradePrice === t.tradePrice);
        expect(trade, `${market} trade at ${t.tradeTimestampMs} price ${t.tradePrice}`).toBeDefined();
      }
      expect(streamed.some((t) => t.tradeTimestampMs >= oldest)).toBe(true);
    }
  });

  it("with periodic disconnects, both clients reconnect, resubscribe and report a sane gap window", async () => {
    const def = recorder("DEFAULT");
    const simple = recorder("SIMPLE");
    // The first test subscribed both; this one relies on that (vitest runs a file's tests in order).
    for (const r of [def, simple]) expect(r.marketsSeen().size).toBe(MARKETS.length);
    const before = new Map([...recorders].map(([f, r]) => [f, { disconnects: r.disconnects.length, reconnects: r.reconnects.length }]));

    await setFaults({ wsDisconnectEveryMs: DISCONNECT_EVERY_MS });
    try {
      // Resubscribed: after the reconnect, a fresh snapshot of every market arrives.
      const resubscribed = (r: Recorder, f: UpbitWebSocketFormat) => (): boolean => {
        const first = r.reconnects[before.get(f)!.reconnects];
        return first !== undefined && r.marketsSeen(first.tickersBefore).size === MARKETS.length;
      };
      await Promise.all([
        def.until("DEFAULT to reconnect and resubscribe", resubscribed(def, "DEFAULT")),
        simple.until("SIMPLE to reconnect and resubscribe", resubscribed(simple, "SIMPLE")),
      ]);
    } finally {
      await setFaults({ wsDisconnectEveryMs: 0 });
    }

    const nowMs = Date.now();
    for (const [format, r] of recorders) {
      const seen = before.get(format)!;
      const drop = r.disconnects[seen.disconnects];
      const reconnect = r.reconnects[seen.reconnects];
      expect(drop, `${format} disconnect`).toBeDefined();
      expect(reconnect, `${format} reconnect`).toBeDefined();
      // The simulator drops sockets without a close frame, as Upbit's wire does.
      expect(drop!.code).toBe(1006);
      const { fromMs, toMs } = reconnect!;
      expect(fromMs).toBeLessThanOrEqual(toMs);
      expect(fromMs).toBeGreaterThanOrEqual(testStartMs);
      expect(toMs).toBeLessThanOrEqual(nowMs);
      // The gap brackets the drop: the last frame came before it, the first new one after.
      expect(fromMs).toBeLessThanOrEqual(drop!.atMs);
      expect(toMs).toBeGreaterThanOrEqual(drop!.atMs);
      expect(reconnect!.attempts).toBeGreaterThanOrEqual(1);
      const after = r.tickers.slice(reconnect!.tickersBefore).map((t) => t.ticker);
      for (const market of MARKETS) {
        expect(after.find((t) => t.market === market)?.streamType, `${format} ${market} snapshot after resubscribing`).toBe("SNAPSHOT");
      }
    }
  });
});
