/**
 * SIGTERM to the gateway process under load (issue 7 §4): unary calls in flight (cold GetCandles
 * ranges that need upstream fetches, slowed by the simulator's latency fault, GetTickers and
 * GetTrades that must go upstream), warm reads all along, and one stream of each kind open.
 *
 * Must hold: every unary call in flight finishes OK with the simulator's data; every stream ends
 * with UNAVAILABLE; the gateway exits 0 within 10 s and its daemon with it; a gateway restarted on
 * the same data directory has every candle that was answered in its store.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, expect, it } from "vitest";
import {
  type Candle,
  Priority,
  type StreamCandlesResponse,
  type StreamOrderbooksResponse,
  type StreamTickersResponse,
  type StreamTradesResponse,
  Timeframe,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { readAll } from "../support/candles.js";
import { useChaosStack } from "./support/chaos-stack.js";
import { type Exit, type GatewayProcess, isAlive, startGatewayProcess } from "./support/chaos-processes.js";
import { codeName, codeOf, deadlineIn, repeatUntil, report, Tally, watchStream } from "./support/load.js";
import { candleDifference, candleValues, expectedCandles, rowValues, tickerIsReal } from "./support/reference-exchange.js";

/** The README's promise: calls in flight get 10 s, then the process exits. */
const EXIT_LIMIT_MS = 10_000;
/** Upstream replies this slow keep the cold calls in flight when the signal comes. */
const UPSTREAM_LATENCY_MS = 1_500;
const CELL_MS = 200 * MINUTE_MS;
/** Cold ranges of 3 cells each: 3 upstream calls per request. */
const COLD_RANGES = 6;
const CELLS_PER_RANGE = 3;
const CALL_DEADLINE_MS = 30_000;

const stack = useChaosStack();
let restarted: GatewayProcess | undefined;

afterAll(async () => {
  await restarted?.stop();
});

it(
  "SIGTERM under load: calls in flight finish, streams end UNAVAILABLE, exit 0 within 10 s, nothing answered is lost from the store",
  async () => {
    const gw = stack.gateway;
    const s = stack.sim;
    const { client } = gw;
    const tally = new Tally();
    const krw = (await client.listMarkets({ quoteCurrencies: ["KRW"] })).markets.map((m) => m.market);
    const candleMarkets = [...stack.exchange.markets]
      .filter((m) => m.quote === "KRW")
      .sort((a, b) => b.tradesPerMinute - a.tradesPerMinute)
      .slice(3, 3 + COLD_RANGES)
      .map((m) => m.code);
    const daemonPid = gw.daemonPid()!;

    // One stream of each kind, each past its first message.
    const streams = {
      tickers: watchStream<StreamTickersResponse>((signal) => client.streamTickers({ markets: krw.slice(0, 3), priority: Priority.CRITICAL }, { signal })),
      orderbooks: watchStream<StreamOrderbooksResponse>((signal) => client.streamOrderbooks({ markets: krw.slice(0, 2), depth: 5 }, { signal })),
      trades: watchStream<StreamTradesResponse>((signal) => client.streamTrades({ markets: ["KRW-XRP", "KRW-BTC"] }, { signal })),
      candles: watchStream<StreamCandlesResponse>((signal) => client.streamCandles({ market: "KRW-BTC", timeframe: Timeframe.MINUTE_1, sinceMs: BigInt(Date.now() - 10 * MINUTE_MS) }, { signal })),
    };
    for (const [name, w] of Object.entries(streams)) await w.next(() => true, 60_000, `the first message of the ${name} stream`);

    // Answered before the signal: stored for sure, and checked again after the restart.
    const answered: { market: string; candles: Candle[] }[] = [];
    const base = Math.floor((Date.now() - 3 * DAY_MS) / CELL_MS) * CELL_MS;
    for (const market of candleMarkets.slice(0, 2)) {
      const answer = await client.getCandles({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(base), endMs: BigInt(base + CELL_MS) });
      answered.push({ market, candles: answer.candles });
    }

    // The calls in flight when the signal comes: every upstream reply now takes 1.5 s.
    await s.reset();
    await s.setFaults({ latencyMs: UPSTREAM_LATENCY_MS });
    const inFlight: Promise<void>[] = [];
    candleMarkets.forEach((market, i) => {
      const start = base - (1 + i) * CELLS_PER_RANGE * CELL_MS;
      const end = start + CELLS_PER_RANGE * CELL_MS;
      inFlight.push(
        client.getCandles({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(end), priority: Priority.NORMAL }, deadlineIn(CALL_DEADLINE_MS)).then(
          (answer) => {
            const difference = candleDifference(candleValues(answer.candles), expectedCandles(stack.exchange, market, "1m", start, end));
            tally.add("GetCandles (cold)", difference === undefined ? "ok" : "wrong", difference);
            if ((answer.meta?.upstreamCalls ?? 0) === 0) tally.add("GetCandles (cold)", "wrong", `${market}: answered without an upstream call, so it was not in flight`);
            answered.push({ market, candles: answer.candles });
          },
          (e: unknown) => tally.add("GetCandles (cold)", codeName(codeOf(e)), String(e)),
        ),
      );
    });
    for (let i = 0; i < 4; i++) {
      inFlight.push(
        client.getTickers({ markets: krw.slice(10 + i * 3, 13 + i * 3), priority: Priority.HIGH, maxStalenessMs: 1 }, deadlineIn(CALL_DEADLINE_MS)).then(
          (answer) => tally.add("GetTickers", answer.tickers.length === 3 && answer.tickers.every((t) => tickerIsReal(stack.exchange, t)) ? "ok" : "wrong"),
          (e: unknown) => tally.add("GetTickers", codeName(codeOf(e)), String(e)),
        ),
      );
    }
    for (const market of ["KRW-ETH", "KRW-SOL"]) {
      inFlight.push(
        client.getTrades({ markets: [market], count: 50 }, deadlineIn(CALL_DEADLINE_MS)).then(
          (answer) => tally.add("GetTrades", answer.trades.length === 50 ? "ok" : "wrong", answer.trades.length === 50 ? undefined : `${answer.trades.length} trades`),
          (e: unknown) => tally.add("GetTrades", codeName(codeOf(e)), String(e)),
        ),
      );
    }
    let settled = 0;
    for (const p of inFlight) void p.then(() => settled++);
    // Warm reads all along, before and after the signal: each one answered right, or refused
    // (UNAVAILABLE) once the gateway stops taking calls.
    const loadOver = new AbortController();
    const warmLoad = repeatUntil(loadOver.signal, 20, async (i) => {
      const { market, candles } = answered[i % 2]!;
      try {
        const answer = await client.getCandles({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(base), endMs: BigInt(base + CELL_MS) }, deadlineIn(CALL_DEADLINE_MS));
        const difference = candleDifference(candleValues(answer.candles), candleValues(candles));
        tally.add("GetCandles (stored, all along)", difference === undefined ? "ok" : "wrong", difference);
      } catch (e) {
        const code = codeOf(e);
        tally.add("GetCandles (stored, all along)", codeName(code), code === status.UNAVAILABLE ? undefined : String(e));
      }
    });
    // In flight for sure: the simulator has their first upstream requests, which take 1.5 s to answer.
    const inFlightSeen = await untilTrue(async () => {
      const t = await s.traffic();
      return (t.candles?.requests ?? 0) >= COLD_RANGES && (t.ticker?.requests ?? 0) >= 1;
    }, 10_000);
    const settledBeforeSignal = settled;

    const signalledAt = performance.now();
    gw.program.child.kill("SIGTERM");
    const exit = await Promise.race([gw.program.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_LIMIT_MS))]);
    const exitMs = performance.now() - signalledAt;
    await Promise.all(inFlight);
    // The warm reads go on until the process is gone.
    await gw.program.exited;
    loadOver.abort();
    await warmLoad;
    const streamEnds = Object.fromEntries(await Promise.all(Object.entries(streams).map(async ([name, w]) => [name, await w.ended] as const)));
    const daemonGone = !isAlive(daemonPid);
    await s.setFaults({ latencyMs: 0 });

    // The same data directory, a new gateway: every candle answered is in its store.
    restarted = await startGatewayProcess(s, { dataDir: gw.dataDir });
    let storedRows = 0;
    const lost: string[] = [];
    for (const a of answered) {
      if (a.candles.length === 0) continue;
      const first = Number(a.candles[0]!.timeMs);
      const last = Number(a.candles.at(-1)!.timeMs);
      const { rows } = await readAll(restarted.storage, { market: a.market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(first), endMs: BigInt(last + 1) });
      storedRows += rows.length;
      const difference = candleDifference(rowValues(rows), candleValues(a.candles));
      if (difference !== undefined) lost.push(`${a.market} ${new Date(first).toISOString()}: ${difference}`);
    }
    const answeredCandles = answered.reduce((n, a) => n + a.candles.length, 0);

    const warmKind = "GetCandles (stored, all along)";
    const unaryKinds = ["GetCandles (cold)", "GetTickers", "GetTrades"];
    const unaryOk = unaryKinds.reduce((n, k) => n + tally.count(k, "ok"), 0);
    const unaryTotal = unaryKinds.reduce((n, k) => n + tally.count(k), 0);
    const describeExit = (e: Exit | undefined) => (e === undefined ? `still running after ${EXIT_LIMIT_MS / 1000} s` : `exit ${e.code ?? e.signal}`);
    report(
      `chaos sigterm: ${inFlight.length} unary calls in flight (${settledBeforeSignal} settled before the signal), ${unaryOk}/${unaryTotal} finished OK ` +
        `[${[...unaryKinds, warmKind].map((k) => tally.describe(k)).join("; ")}]; ` +
        `streams: ${Object.entries(streamEnds).map(([n, e]) => `${n} ${e === undefined ? "OK" : codeName(e.code)}`).join(", ")}; ` +
        `gateway ${describeExit(exit)} ${(exitMs / 1000).toFixed(1)} s after SIGTERM, daemon ${daemonGone ? "gone" : "STILL RUNNING"}; ` +
        `store after restart: ${storedRows} of ${answeredCandles} answered candles found, ${lost.length} ranges differ`,
    );

    expect(inFlightSeen, "the calls were in flight at the gateway when the signal came").toBe(true);
    expect(settledBeforeSignal, "none had finished before the signal").toBe(0);
    expect(tally.problems, "in-flight calls").toEqual([]);
    expect(unaryOk).toBe(inFlight.length);
    expect(tally.count(warmKind, "ok"), "warm reads answered until the gateway stopped taking calls").toBeGreaterThan(0);
    expect(tally.countOther(warmKind, ["ok", "UNAVAILABLE"])).toBe(0);
    expect(exit, "exit within 10 s").toEqual({ code: 0, signal: null });
    expect(daemonGone).toBe(true);
    for (const [name, end] of Object.entries(streamEnds)) expect(end === undefined ? "OK" : codeName(end.code), `${name} stream`).toBe(codeName(status.UNAVAILABLE));
    expect(lost, "answered candles missing from the store").toEqual([]);
    expect(storedRows).toBe(answeredCandles);
  },
  4 * 60_000,
);

/** Polls `check` every 100 ms until it holds; false after `limitMs`. */
async function untilTrue(check: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  for (const until = Date.now() + limitMs; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    if (await check()) return true;
  }
  return false;
}
