/**
 * 10,000 malformed or hostile requests against the gateway process (issue 7 §4): real request
 * messages with one defect each (fuzzed fields, counts of 2^32-1, negative int64 times, unknown
 * enum values, well-formed but unlisted markets), random bytes, strings that are not UTF-8,
 * messages above BACKBONE_MAX_REQUEST_BYTES and length prefixes that lie about it, methods that do
 * not exist, stream requests no stream should start from, and slow-loris: requests trickled one
 * byte a second, and streams opened and never read.
 *
 * Must hold: every one answered with the right status (and an INVALID_ARGUMENT message naming the
 * field), never INTERNAL or UNKNOWN, never a hang past its deadline; gateway, daemon and simulator
 * alive (same pids, health SERVING); the store unchanged; the gateway's memory back near its
 * baseline afterwards.
 */
import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { expect, it } from "vitest";
import { MarketDataService, Priority, Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { MINUTE_MS } from "../../src/shared/time.js";
import { healthCheck, PUBLIC_SERVICE } from "../support/health-client.js";
import { useChaosStack } from "./support/chaos-stack.js";
import { type GatewayProcess, isAlive, rssMiB } from "./support/chaos-processes.js";
import { harmlessCandleRequest, type HostileCall, hostileCalls, tickerStreamRequest } from "./support/hostile-requests.js";
import { connectHeapProbe, inspectorUrl } from "./support/heap-probe.js";
import { codeName, report, Tally } from "./support/load.js";
import { connectHttp2, lyingLength, openUnread, RawGrpcClient, trickle } from "./support/raw-grpc.js";
import { storeShape } from "./support/store-audit.js";

/** Smaller than the default 1 MiB so oversized requests stay cheap; the code path is the same. */
const MAX_REQUEST_BYTES = 64 * 1024;
const SEED = 7_2026;
/** The 10,000: 9,700 through grpc-js, 300 over bare HTTP/2 (100 of each slow or lying kind). */
const MIX = { candles: 2_500, snapshots: 1_500, randomBytes: 2_000, badUtf8: 1_000, oversized: 400, unknownMethods: 300, streams: 2_000 };
const TRICKLED = 100;
const UNREAD = 100;
const LYING = 100;
const TOTAL = Object.values(MIX).reduce((a, b) => a + b, 0) + TRICKLED + UNREAD + LYING;
/** Calls in flight at once through grpc-js. */
const CONCURRENCY = 32;
/** Deadline of every grpc-js call: a refusal takes milliseconds, so reaching it is a hang. */
const CALL_DEADLINE_MS = 10_000;
/** The trickled requests' grpc-timeout, and how late their DEADLINE_EXCEEDED may come. */
const TRICKLE_TIMEOUT_S = 3;
const STATUS_SLACK_MS = 2_000;
/** The never-read streams' grpc-timeout. */
const UNREAD_TIMEOUT_S = 5;
/** How long after their deadline the never-read streams may still count as open. */
const RELEASE_LIMIT_MS = 10_000;
/** How much more the gateway's heap may hold after a full GC once the load is over, MiB. */
const HEAP_MARGIN_MIB = 8;
/** How far above its baseline the gateway's RSS may stay once the load is over. */
const RSS_MARGIN_MIB = 30;
const RSS_SETTLE_LIMIT_MS = 30_000;

// The inspector lets the test force a full GC in the gateway and read its heap (heap-probe.ts).
const stack = useChaosStack({ env: { BACKBONE_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES), NODE_OPTIONS: "--inspect=127.0.0.1:0" } });

/** Whether an answer is right for the call; the problem otherwise. */
function judge(call: HostileCall, code: number, details: string): string | undefined {
  if (!call.expected.includes(code)) return `${call.path} ${call.defect}: ${codeName(code)} "${details.slice(0, 160)}", expected ${call.expected.map(codeName).join("|")}`;
  if (code === status.INVALID_ARGUMENT && call.field !== undefined && !details.startsWith(call.field)) {
    return `${call.path} ${call.defect}: INVALID_ARGUMENT "${details.slice(0, 160)}" does not name ${call.field}`;
  }
  return undefined;
}

/** Polls GetStats until the open streams pass `test`; resolves with when, or undefined after `limitMs`. */
async function untilStreams(client: GatewayProcess["client"], test: (open: number) => boolean, limitMs: number): Promise<number | undefined> {
  for (const until = Date.now() + limitMs; Date.now() < until; await delay(100)) {
    if (test((await client.getStats({})).gateway?.activeStreams ?? -1)) return Date.now();
  }
  return undefined;
}

/** Runs `calls` through `client`, `CONCURRENCY` at a time, into `tally`. */
async function runAll(client: RawGrpcClient, calls: readonly HostileCall[], tally: Tally, codes: Map<number, number>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const call = calls[next++]!;
      const answer = await client.call(call.path, call.bytes, call.streaming, CALL_DEADLINE_MS);
      codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
      const problem = judge(call, answer.code, answer.details);
      tally.add(call.category, problem === undefined ? "right" : "wrong", problem);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

it(
  "10,000 malformed or hostile requests: each gets the right status, nothing crashes or hangs, the store is unchanged, memory comes back",
  async () => {
    const gw = stack.gateway;
    const { client, storage } = gw;
    const listed = (await client.listMarkets({})).markets.map((m) => m.market);
    const krw = listed.filter((m) => m.startsWith("KRW-"));
    // Some stored candles, so "unchanged" has something to keep.
    const start = Math.floor((Date.now() - 2 * 86_400_000) / (200 * MINUTE_MS)) * 200 * MINUTE_MS;
    for (const market of krw.slice(0, 3)) {
      await client.getCandles({ market, timeframe: Timeframe.MINUTE_1, startMs: BigInt(start), endMs: BigInt(start + 200 * MINUTE_MS), priority: Priority.NORMAL });
    }
    const raw = new RawGrpcClient(gw.address);
    const calls = hostileCalls(MIX, { listed, nowMs: Date.now(), maxRequestBytes: MAX_REQUEST_BYTES, seed: SEED });
    // Warm-up (not counted): a fifth of the mix from another seed, so the baseline includes the
    // code and pools this load needs, not only an idle gateway.
    const warmUpMix = Object.fromEntries(Object.entries(MIX).map(([k, n]) => [k, Math.round(n / 5)])) as typeof MIX;
    const warmUp = hostileCalls(warmUpMix, { listed, nowMs: Date.now(), maxRequestBytes: MAX_REQUEST_BYTES, seed: SEED + 1 });
    await runAll(raw, warmUp, new Tally(), new Map());

    const pids = { gateway: gw.program.pid, daemon: gw.daemonPid()!, sim: stack.sim.program.pid };
    const storeBefore = await storeShape(storage);
    const heap = await connectHeapProbe(inspectorUrl(gw.program.stderr.findRaw((line) => inspectorUrl(line) !== undefined) ?? "")!);
    const heapBefore = await heap.heapAfterGcMiB();
    const rssBefore = rssMiB(pids.gateway);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pids.gateway))), 200);

    const tally = new Tally();
    const codes = new Map<number, number>();
    const started = performance.now();

    // Slow-loris alongside the rest: trickled requests, streams never read, lying length prefixes.
    const trickleSessions = Array.from({ length: 4 }, () => connectHttp2(gw.address));
    const trickled = Promise.all(
      Array.from({ length: TRICKLED }, (_, i) => trickle(trickleSessions[i % trickleSessions.length]!, `/${MarketDataService.typeName}/GetCandles`, harmlessCandleRequest(), TRICKLE_TIMEOUT_S, 1_000)),
    );
    // A 1 KiB window per stream: the server can send a few tickers, then everything waits on us.
    const unreadSessions = Array.from({ length: 2 }, () => connectHttp2(gw.address, { initialWindowSize: 1024 }));
    const unread = Array.from({ length: UNREAD }, (_, i) =>
      openUnread(unreadSessions[i % unreadSessions.length]!, `/${MarketDataService.typeName}/StreamTickers`, tickerStreamRequest(krw.slice(0, 200)), UNREAD_TIMEOUT_S),
    );
    // Held open by the gateway (the rest of the load has not begun: nothing else streams yet).
    const unreadHeld = await untilStreams(client, (n) => n >= UNREAD, RELEASE_LIMIT_MS);
    const lyingSession = connectHttp2(gw.address);
    const lying = Promise.all(Array.from({ length: LYING }, (_, i) => lyingLength(lyingSession, `/${MarketDataService.typeName}/${i % 2 ? "GetTickers" : "StreamTrades"}`, 2 ** 31 - 1 - i)));

    await runAll(raw, calls, tally, codes);
    const grpcJsMs = performance.now() - started;

    for (const answer of await trickled) {
      codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
      const right = answer.code === status.DEADLINE_EXCEEDED && answer.ms <= TRICKLE_TIMEOUT_S * 1000 + STATUS_SLACK_MS;
      tally.add("slow-loris: 1 byte/s", right ? "right" : "wrong", right ? undefined : `${codeName(answer.code)} after ${Math.round(answer.ms)} ms, ${answer.bytesSent} bytes sent: ${answer.details}`);
    }
    // The never-read streams: their clients still hold them, unread, past their grpc-timeout. The
    // server must let go of them at their deadline (grpc-js cannot deliver their status while the
    // client reads nothing, see the README), so the gateway's open streams fall to zero.
    const releasedAt = await untilStreams(client, (n) => n === 0, UNREAD_TIMEOUT_S * 1000 + RELEASE_LIMIT_MS);
    for (let i = 0; i < UNREAD; i++) {
      tally.add("slow-loris: streams never read", releasedAt !== undefined ? "right" : "wrong", releasedAt !== undefined ? undefined : `still open ${RELEASE_LIMIT_MS} ms after their deadline`);
    }
    for (const u of unread) u.cancel();
    for (const answer of await lying) {
      codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
      const right = answer.code === status.RESOURCE_EXHAUSTED;
      tally.add("length prefix of 2 GiB", right ? "right" : "wrong", right ? undefined : `${codeName(answer.code)}: ${answer.details}`);
    }
    for (const s of [...trickleSessions, ...unreadSessions, lyingSession]) s.close();
    raw.close();

    // Alive and well: the same processes, serving.
    const alive = { gateway: isAlive(pids.gateway), daemon: isAlive(pids.daemon) && gw.daemonPid() === pids.daemon, sim: isAlive(pids.sim) };
    const health = await healthCheck(gw.address, PUBLIC_SERVICE);
    const storeAfter = await storeShape(storage);
    const openStreams = (await client.getStats({})).gateway?.activeStreams;
    // Memory: what the gateway still holds after a full GC, against the same before the load; and
    // its RSS, polled until back within the margin (V8 hands pages back lazily), bounded.
    const heapAfter = await heap.heapAfterGcMiB();
    let rssAfter = rssMiB(pids.gateway);
    for (const until = Date.now() + RSS_SETTLE_LIMIT_MS; rssAfter > rssBefore + RSS_MARGIN_MIB && Date.now() < until; rssAfter = rssMiB(pids.gateway)) {
      await delay(1_000);
      await heap.heapAfterGcMiB(); // a full GC frees the Buffers of the large requests too
    }
    heap.close();
    clearInterval(sampler);

    const counted = tally.total();
    const wrong = tally.kinds().reduce((n, k) => n + tally.count(k, "wrong"), 0);
    const internal = (codes.get(status.INTERNAL) ?? 0) + (codes.get(status.UNKNOWN) ?? 0);
    report(
      `chaos hostile-requests: ${counted} requests (${Math.round(grpcJsMs / 1000)} s), ${counted - wrong} right, ${wrong} wrong, ${internal} INTERNAL/UNKNOWN ` +
        `[${tally.kinds().map((k) => tally.describe(k)).join("; ")}]; ` +
        `statuses: ${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${codeName(c)} ${n}`).join(", ")}; ` +
        `alive: gateway ${alive.gateway}, daemon ${alive.daemon} (same pid), simulator ${alive.sim}, health ${health}; ` +
        `store: ${storeBefore.series} series / ${storeBefore.rows} rows before, ${storeAfter.series} / ${storeAfter.rows} after; ` +
        `${tally.problems.length ? `problems: ${tally.problems.slice(0, 5).join(" | ")}; ` : ""}${UNREAD} never-read streams ${releasedAt === undefined ? "NOT released" : "released past their deadline while still unread"}; open streams after: ${openStreams}; gateway heap after GC ${heapBefore.toFixed(1)} MiB before, ${heapAfter.toFixed(1)} after (margin ${HEAP_MARGIN_MIB}); ` +
        `RSS ${rssBefore.toFixed(0)} MiB before, peak ${rssPeak.toFixed(0)}, ${rssAfter.toFixed(0)} after (margin ${RSS_MARGIN_MIB})`,
    );

    expect(counted).toBe(TOTAL);
    expect(tally.problems, "wrong answers").toEqual([]);
    expect(wrong).toBe(0);
    expect(internal).toBe(0);
    expect(alive).toEqual({ gateway: true, daemon: true, sim: true });
    expect(health).toBe("SERVING");
    expect(storeBefore.rows).toBeGreaterThan(0);
    expect(storeAfter).toEqual(storeBefore);
    expect(unreadHeld, `the ${UNREAD} never-read streams were open at the gateway`).toBeDefined();
    expect(openStreams).toBe(0);
    expect(heapAfter, `heap back within ${HEAP_MARGIN_MIB} MiB of ${heapBefore.toFixed(1)} MiB`).toBeLessThanOrEqual(heapBefore + HEAP_MARGIN_MIB);
    expect(rssAfter, `RSS back within ${RSS_MARGIN_MIB} MiB of ${rssBefore.toFixed(0)} MiB`).toBeLessThanOrEqual(rssBefore + RSS_MARGIN_MIB);
  },
  6 * 60_000,
);
