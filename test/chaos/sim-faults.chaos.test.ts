/**
 * A minute of upstream faults (issue 7 §4), injected by the simulator process (`POST /_sim/faults`)
 * in phases: a 5xx storm, 429 bursts, latency spikes, WebSocket drops, a WebSocket stall. Load
 * meanwhile: GetCandles of new ranges, GetTickers and GetTrades with deadlines that leave room for
 * the gateway's retries, CRITICAL GetTickers with a deadline that does not (counted apart), and a
 * StreamTrades and a StreamTickers stream open throughout.
 *
 * Must hold: zero client-visible errors for the calls whose deadline allowed the retries; not one
 * second above the rate limit in any group and not one 429 beyond those injected; the streams
 * resumed after every fault with no silent gap (every trade the simulator made is delivered, or
 * lies inside an explicit gap notice).
 */
import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { expect, it } from "vitest";
import {
  Priority,
  type StreamGap,
  type StreamTickersResponse,
  type StreamTradesResponse,
  Timeframe,
  type Trade,
} from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { DEFAULT_DEAD_AFTER_MS } from "../../src/gateway/upstream/upbit-websocket-client.js";
import { DAY_MS, MINUTE_MS } from "../../src/shared/time.js";
import { useChaosStack } from "./support/chaos-stack.js";
import { type FaultPatch, type SimProcess } from "./support/chaos-processes.js";
import { codeName, codeOf, deadlineIn, repeatUntil, report, Tally, watchStream } from "./support/load.js";
import { candleDifference, candleValues, expectedCandles, tickerIsReal } from "./support/reference-exchange.js";

/** The three busiest pairs of the synthetic universe: trades every few seconds. */
const BUSY = ["KRW-XRP", "KRW-BTC", "KRW-ICP"];
const TICKER_MARKETS = ["KRW-ETH", "KRW-SOL", "KRW-DOGE", "KRW-ADA"];
/** Longer than the outage plus a latency spike: the gateway's retries (until the deadline) ride it out. */
const PATIENT_DEADLINE_MS = 30_000;
/** Shorter than one latency spike: such a call may run out of time, and only that is allowed. */
const IMPATIENT_DEADLINE_MS = 400;
const CELL_MS = 200 * MINUTE_MS;
/** How long trades may take to reach the stream once the faults are over. */
const CATCH_UP_MS = 30_000;

/**
 * The stall: longer than the silence after which the gateway replaces its upstream connection
 * (DEFAULT_DEAD_AFTER_MS); a shorter one loses its trades unnoticed, as no client can tell.
 */
const STALL_MS = DEFAULT_DEAD_AFTER_MS + 4_000;

interface Phase {
  name: string;
  ms: number;
  /** Faults at the start of the phase; `pulse` repeats `on` every `everyMs`, `off` after `forMs`. */
  on: FaultPatch;
  off: FaultPatch;
  pulse?: { everyMs: number; forMs: number };
}

/**
 * About a minute of faults: an 8 s total outage (every request answered 5xx) followed by 8 s in
 * which half the requests fail, bursts of 3 injected 429s, 1.5 s latency spikes, the WebSocket
 * dropped every 3 s, and a 16 s WebSocket stall (connections open but silent: no data, no pongs).
 * The outage is far longer than a fixed few retries would cover (3 retries with backoff 250 ms
 * doubling span under 2 s): calls survive it only because the gateway retries until their deadline.
 */
const PHASES: Phase[] = [
  { name: "5xx outage", ms: 8_000, on: { errorRate: 1 }, off: { errorRate: 0 } },
  { name: "5xx storm", ms: 8_000, on: { errorRate: 0.5 }, off: { errorRate: 0 } },
  // 4 s apart: a request that took all 3 of one burst has made its 4th attempt before the next.
  { name: "429 bursts", ms: 12_000, on: { burst429: { count: 3 } }, off: {}, pulse: { everyMs: 4_000, forMs: 0 } },
  { name: "latency spikes", ms: 10_000, on: { latencyMs: 1_500 }, off: { latencyMs: 0 }, pulse: { everyMs: 3_000, forMs: 1_500 } },
  { name: "WebSocket drops", ms: 14_000, on: { wsDisconnectEveryMs: 3_000 }, off: { wsDisconnectEveryMs: null } },
  { name: "WebSocket stall", ms: STALL_MS + 4_000, on: { wsStall: true }, off: { wsStall: false }, pulse: { everyMs: STALL_MS + 4_000, forMs: STALL_MS } },
];

const stack = useChaosStack();

/** Runs the phases in order; resolves with each phase's span and the 429s injected. */
async function runPhases(s: SimProcess, onPhase: (name: string) => void): Promise<{ spans: { name: string; from: number; to: number }[]; injected429: number }> {
  const spans: { name: string; from: number; to: number }[] = [];
  let burstsSet = 0;
  for (const phase of PHASES) {
    onPhase(phase.name);
    const from = Date.now();
    const until = from + phase.ms;
    if (phase.pulse === undefined) {
      await s.setFaults(phase.on);
      await delay(phase.ms);
    } else {
      while (Date.now() + phase.pulse.everyMs <= until + 50) {
        const pulseStart = Date.now();
        await s.setFaults(phase.on);
        if (phase.on.burst429 !== undefined) burstsSet += phase.on.burst429.count;
        if (phase.pulse.forMs > 0) {
          await delay(phase.pulse.forMs);
          await s.setFaults(phase.off);
        }
        await delay(Math.max(0, pulseStart + phase.pulse.everyMs - Date.now()));
      }
      await delay(Math.max(0, until - Date.now()));
    }
    await s.setFaults(phase.off);
    spans.push({ name: phase.name, from, to: Date.now() });
  }
  // What was set but never taken by a request was not injected.
  const left = (await s.faults()).burst429.count;
  return { spans, injected429: burstsSet - left };
}

/** What one trade stream delivered for one market. */
interface MarketTrades {
  trades: Trade[];
  gaps: StreamGap[];
}

function tradesByMarket(messages: readonly { message: StreamTradesResponse }[]): Map<string, MarketTrades> {
  const out = new Map<string, MarketTrades>();
  const of = (market: string) => {
    let m = out.get(market);
    if (m === undefined) out.set(market, (m = { trades: [], gaps: [] }));
    return m;
  };
  for (const { message } of messages) {
    if (message.event.case === "trade") of(message.event.value.market).trades.push(message.event.value);
    else if (message.event.case === "gap") of(message.event.value.market).gaps.push(message.event.value);
  }
  return out;
}

/**
 * Holes in a trade stream: the simulator's trades between the first live trade and the last one
 * received that the stream neither delivered nor covered with a gap notice. Also duplicates,
 * order breaks and trades the simulator never made.
 */
function judgeTrades(market: string, got: MarketTrades, phaseAt: (ms: number) => string) {
  const [snapshot, ...live] = got.trades;
  const result = { market, live: live.length, silentlyLost: 0, inGaps: 0, duplicates: 0, outOfOrder: 0, invented: 0, lostAt: [] as string[] };
  if (snapshot === undefined || live.length === 0) return result;
  const ids = got.trades.map((t) => t.sequentialId);
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1]) result.duplicates++;
    else if (ids[i]! < ids[i - 1]!) result.outOfOrder++;
  }
  const from = Number(live[0]!.tradeTimeMs);
  const to = Number(live.at(-1)!.tradeTimeMs);
  const made = stack.exchange.trades(market, from, to + 1).filter((t) => t.sequentialId >= live[0]!.sequentialId && t.sequentialId <= live.at(-1)!.sequentialId);
  const madeIds = new Set(made.map((t) => t.sequentialId));
  const receivedIds = new Set(ids);
  result.invented = live.filter((t) => !madeIds.has(t.sequentialId)).length;
  for (const t of made) {
    if (receivedIds.has(t.sequentialId)) continue;
    if (got.gaps.some((g) => t.timestampMs >= Number(g.startMs) && t.timestampMs < Number(g.endMs))) result.inGaps++;
    else {
      result.silentlyLost++;
      if (result.lostAt.length < 5) result.lostAt.push(`${new Date(t.timestampMs).toISOString()} (${phaseAt(t.timestampMs)})`);
    }
  }
  return result;
}

it(
  "a minute of 5xx storms, 429 bursts, latency spikes, WebSocket drops and stalls: no visible error when the deadline allows retries, never over the limit, no silent gap",
  async () => {
    const gw = stack.gateway;
    const s = stack.sim;
    const { client } = gw;
    const tally = new Tally();
    await client.listMarkets({});
    await s.reset();
    const baseCell = Math.floor((Date.now() - 3 * DAY_MS) / CELL_MS) * CELL_MS;
    const candleMarkets = [...stack.exchange.markets]
      .filter((m) => m.quote === "KRW" && !BUSY.includes(m.code))
      .sort((a, b) => b.tradesPerMinute - a.tradesPerMinute)
      .slice(0, 8)
      .map((m) => m.code);

    const trades = watchStream<StreamTradesResponse>((signal) => client.streamTrades({ markets: BUSY, priority: Priority.CRITICAL }, { signal }));
    const tickerStream = watchStream<StreamTickersResponse>((signal) => client.streamTickers({ markets: BUSY, priority: Priority.HIGH }, { signal }));
    // Every market past its snapshot, so the faults hit a live stream.
    for (const market of BUSY) {
      await trades.next((m) => m.event.case === "trade" && m.event.value.market === market && !m.snapshot, 60_000, `a live trade of ${market}`);
    }

    let phase = "calm";
    const kind = (what: string) => `${what} [${phase}]`;
    /** Patient calls answered right, with when they started and ended. */
    const answered: { what: string; from: number; to: number }[] = [];
    const patient = (what: string, call: () => Promise<string | undefined>) => async () => {
      const k = kind(what);
      const from = Date.now();
      try {
        const problem = await call();
        tally.add(k, problem === undefined ? "ok" : "wrong", problem);
        if (problem === undefined) answered.push({ what, from, to: Date.now() });
      } catch (e) {
        tally.add(k, codeName(codeOf(e)), String(e));
      }
    };
    const loadOver = new AbortController();
    let cell = 0;
    const loops = [
      repeatUntil(
        loadOver.signal,
        300,
        patient("GetCandles", async () => {
          const i = cell++;
          const market = candleMarkets[i % candleMarkets.length]!;
          const start = baseCell - Math.floor(i / candleMarkets.length) * CELL_MS;
          const answer = await client.getCandles(
            { market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(start + CELL_MS), priority: Priority.NORMAL },
            deadlineIn(PATIENT_DEADLINE_MS),
          );
          return candleDifference(candleValues(answer.candles), expectedCandles(stack.exchange, market, "1m", start, start + CELL_MS));
        }),
      ),
      repeatUntil(
        loadOver.signal,
        500,
        patient("GetTickers", async () => {
          const answer = await client.getTickers({ markets: TICKER_MARKETS, priority: Priority.HIGH, maxStalenessMs: 1 }, deadlineIn(PATIENT_DEADLINE_MS));
          const right = answer.tickers.map((t) => t.market).join() === TICKER_MARKETS.join() && answer.tickers.every((t) => tickerIsReal(stack.exchange, t));
          return right ? undefined : `tickers ${answer.tickers.map((t) => `${t.market}@${t.tradeTimeMs}=${t.tradePrice}`).join(" ")}`;
        }),
      ),
      repeatUntil(
        loadOver.signal,
        700,
        patient("GetTrades", async () => {
          const answer = await client.getTrades({ markets: ["KRW-ETH"], count: 20, priority: Priority.NORMAL }, deadlineIn(PATIENT_DEADLINE_MS));
          const bad = answer.trades.filter((t) => !stack.exchange.trades(t.market, Number(t.tradeTimeMs), Number(t.tradeTimeMs) + 1).some((x) => x.sequentialId === t.sequentialId));
          return answer.trades.length === 20 && bad.length === 0 ? undefined : `${answer.trades.length} trades, ${bad.length} unknown to the simulator`;
        }),
      ),
      repeatUntil(loadOver.signal, 1_000, async () => {
        const k = kind("GetTickers CRITICAL impatient");
        try {
          const answer = await client.getTickers({ markets: ["KRW-DOT"], priority: Priority.CRITICAL, maxStalenessMs: 1 }, deadlineIn(IMPATIENT_DEADLINE_MS));
          tally.add(k, answer.tickers.length === 1 && tickerIsReal(stack.exchange, answer.tickers[0]!) ? "ok" : "wrong");
        } catch (e) {
          tally.add(k, codeName(codeOf(e)), codeOf(e) === status.DEADLINE_EXCEEDED ? undefined : String(e));
        }
      }),
    ];

    const disconnectsBefore = gw.program.stderr.all((f) => f.message === "upbit websocket disconnected").length;
    const { spans, injected429 } = await runPhases(s, (name) => (phase = name));
    phase = "after";
    const faultsOver = Date.now();
    // The streams resumed: live trades of every market made after the faults arrive.
    const resumed = await Promise.all(
      BUSY.map((market) =>
        trades
          .next((m) => m.event.case === "trade" && m.event.value.market === market && Number(m.event.value.tradeTimeMs) > faultsOver, CATCH_UP_MS, `a trade of ${market} after the faults`)
          .then(() => true, () => false),
      ),
    );
    const tickerResumed = await tickerStream.next((m) => Number(m.ticker?.tradeTimeMs ?? 0) > faultsOver, CATCH_UP_MS, "a ticker after the faults").then(() => true, () => false);
    loadOver.abort();
    await Promise.all(loops);
    const tradesOpen = !trades.done();
    const tickersOpen = !tickerStream.done();
    trades.cancel();
    tickerStream.cancel();
    const tradesEnd = await trades.ended;
    const tickersEnd = await tickerStream.ended;

    const traffic = await s.traffic();
    const rejected = Object.values(traffic).reduce((n, g) => n + g.rejected_429, 0);
    const overLimit = Object.entries(traffic).filter(([, g]) => g.max_per_second > s.rateLimit);
    const disconnects = gw.program.stderr.all((f) => f.message === "upbit websocket disconnected").length - disconnectsBefore;
    const silent = gw.program.stderr.all((f) => f.message === "upbit websocket silent, replacing it").length;
    const byMarket = tradesByMarket(trades.messages);
    const phaseAt = (ms: number) => spans.find((p) => ms >= p.from && ms < p.to)?.name ?? "calm";
    const judged = BUSY.map((m) => judgeTrades(m, byMarket.get(m) ?? { trades: [], gaps: [] }, phaseAt));
    const gaps = [...byMarket.values()].flatMap((m) => m.gaps);

    const patientKinds = tally.kinds().filter((k) => !k.startsWith("GetTickers CRITICAL impatient"));
    const patientErrors = patientKinds.reduce((n, k) => n + tally.countOther(k, ["ok"]), 0);
    const impatientKinds = tally.kinds().filter((k) => k.startsWith("GetTickers CRITICAL impatient"));
    const impatientWrong = impatientKinds.reduce((n, k) => n + tally.countOther(k, ["ok", "DEADLINE_EXCEEDED"]), 0);
    const impatientLate = impatientKinds.reduce((n, k) => n + tally.count(k, "DEADLINE_EXCEEDED"), 0);
    report(
      `chaos sim-faults: ${tally.total()} calls over ${spans.map((p) => `${p.name} ${((p.to - p.from) / 1000).toFixed(0)} s`).join(", ")}; ` +
        `patient calls (deadline ${PATIENT_DEADLINE_MS / 1000} s): ${patientKinds.reduce((n, k) => n + tally.count(k), 0)}, ${patientErrors} errors; ` +
        `impatient CRITICAL (${IMPATIENT_DEADLINE_MS} ms): ${impatientKinds.reduce((n, k) => n + tally.count(k), 0)}, ${impatientLate} DEADLINE_EXCEEDED, ${impatientWrong} other errors; ` +
        `[${tally.kinds().map((k) => tally.describe(k)).join("; ")}]; ` +
        `upstream: ${Object.entries(traffic).map(([g, t]) => `${g} ${t.requests} req max ${t.max_per_second}/s`).join(", ")}, ${rejected} 429s of which ${injected429} injected, ${rejected - injected429} caused by us; ` +
        `WebSocket: ${disconnects} drops seen by the gateway, ${silent} silences noticed; ` +
        `trades: ${judged.map((j) => `${j.market} ${j.live} live, ${j.silentlyLost} silently lost${j.lostAt.length ? ` (${j.lostAt.join(" ")})` : ""}, ${j.inGaps} in gap notices, ${j.duplicates} dup`).join("; ")}; ` +
        `${gaps.length} gap notices; streams resumed: trades ${resumed.every(Boolean)}, tickers ${tickerResumed}`,
    );

    expect(patientErrors, `no visible error for patient calls: ${tally.problems.join(" | ")}`).toBe(0);
    // Of each kind, a call waited through most of the outage and was answered after it: far
    // longer than a fixed 3 retries would have waited (under 2 s).
    const outage = spans.find((p) => p.name === "5xx outage")!;
    const rodeOut = (what: string) => answered.some((c) => c.what === what && c.to >= outage.to && outage.to - Math.max(c.from, outage.from) >= (outage.to - outage.from) / 2);
    expect(["GetCandles", "GetTickers", "GetTrades"].filter((what) => !rodeOut(what)), "kinds with no call answered across the outage").toEqual([]);
    expect(impatientWrong, `impatient calls fail only by their deadline: ${tally.problems.join(" | ")}`).toBe(0);
    expect(overLimit, "no second above the limit").toEqual([]);
    expect(rejected - injected429, "429s caused by the gateway").toBe(0);
    expect(injected429).toBeGreaterThan(0);
    expect(disconnects, "the WebSocket drops happened").toBeGreaterThan(0);
    expect(resumed, "every trade stream market resumed").toEqual(BUSY.map(() => true));
    expect(tickerResumed, "the ticker stream resumed").toBe(true);
    expect(tradesOpen && tickersOpen, `streams open to the end (trades ${codeName(tradesEnd?.code)}, tickers ${codeName(tickersEnd?.code)})`).toBe(true);
    for (const j of judged) {
      expect(j.live, `${j.market}: live trades`).toBeGreaterThan(0);
      expect(j.duplicates, `${j.market}: duplicates`).toBe(0);
      expect(j.outOfOrder, `${j.market}: out of order`).toBe(0);
      expect(j.invented, `${j.market}: trades the simulator never made`).toBe(0);
      expect(j.silentlyLost, `${j.market}: trades lost without a gap notice, at ${j.lostAt.join(", ")}`).toBe(0);
    }
  },
  5 * 60_000,
);
