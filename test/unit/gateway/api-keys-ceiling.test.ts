/** How a key's ceiling, the markets-per-call limit and the stream quota apply to a call (CallGuard). */
import { create } from "@bufbuild/protobuf";
import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GetTickersRequestSchema, GetStatsRequestSchema, Priority, type ResponseMeta, ResponseMetaSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { CallerPolicy, parseApiKeys } from "../../../src/gateway/api-keys.js";
import { capPriority } from "../../../src/gateway/request-priority.js";
import { withPriorityCapped } from "../../../src/gateway/response-meta.js";
import { CallGuard } from "../../../src/gateway/security/call-guard.js";
import { StreamQuota } from "../../../src/gateway/security/stream-quota.js";
import type { CallContext, Send } from "../../../src/shared/grpc/handlers.js";
import { answerOf } from "../../support/status-of.js";

const NORMAL_KEY = "normal-key-0123456789";
const LOW_KEY = "low-key-0123456789abc";

function ctxWith(key?: string): CallContext {
  const metadata = new Metadata();
  if (key !== undefined) metadata.set("authorization", `Bearer ${key}`);
  return { signal: new AbortController().signal, metadata };
}

async function rejection(p: Promise<unknown>): Promise<{ code: number | undefined; details: string | undefined }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  return answerOf(() => {
    throw e;
  });
}

describe("capPriority", () => {
  it.each([
    [Priority.CRITICAL, "NORMAL", "NORMAL", Priority.NORMAL, true],
    [Priority.HIGH, "NORMAL", "NORMAL", Priority.NORMAL, true],
    [Priority.NORMAL, "NORMAL", "NORMAL", Priority.NORMAL, false],
    [Priority.LOW, "NORMAL", "NORMAL", Priority.LOW, false],
    [Priority.CRITICAL, "NORMAL", "CRITICAL", Priority.CRITICAL, false],
    // Unspecified: the RPC's default, capped like an asked priority.
    [Priority.UNSPECIFIED, "NORMAL", "LOW", Priority.LOW, true],
    [Priority.UNSPECIFIED, "NORMAL", "NORMAL", Priority.UNSPECIFIED, false],
    [Priority.UNSPECIFIED, "LOW", "NORMAL", Priority.UNSPECIFIED, false],
    // Not a Priority: left for the RPC's parser to refuse, naming the field.
    [99 as Priority, "NORMAL", "LOW", 99, false],
  ] as const)("%i with default %s under %s is %i (capped %s)", (asked, fallback, ceiling, value, capped) => {
    expect(capPriority(asked, fallback, ceiling)).toEqual({ value, capped });
  });
});

describe("withPriorityCapped", () => {
  it("flags a copy of the answer's meta, leaving the original and meta-less messages alone", () => {
    const meta = create(ResponseMetaSchema, { priority: Priority.NORMAL });
    const answer = { tickers: [], meta };
    const capped = withPriorityCapped(answer);
    expect(capped.meta.priorityCapped).toBe(true);
    expect(capped.meta.priority).toBe(Priority.NORMAL);
    expect(meta.priorityCapped).toBe(false);
    const update = { ticker: { market: "KRW-BTC" }, snapshot: true };
    expect(withPriorityCapped(update)).toBe(update);
    const lastless = { market: "KRW-BTC", meta: undefined };
    expect(withPriorityCapped(lastless)).toBe(lastless);
  });
});

describe("StreamQuota", () => {
  it("refuses a client's stream over the limit RESOURCE_EXHAUSTED, naming the limit and the variable, until one ends", () => {
    const quota = new StreamQuota(2);
    const a1 = quota.acquire("peer 10.0.0.1");
    quota.acquire("peer 10.0.0.1");
    quota.acquire("peer 10.0.0.2");
    expect(answerOf(() => quota.acquire("peer 10.0.0.1"))).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: "peer 10.0.0.1 has 2 streams open, the most one client may (BACKBONE_MAX_STREAMS_PER_CLIENT=2); close one first",
    });
    a1();
    a1(); // Released once, however often it is called.
    expect(quota.openBy("peer 10.0.0.1")).toBe(1);
    quota.acquire("peer 10.0.0.1");
    expect(quota.openBy("peer 10.0.0.1")).toBe(2);
  });
});

describe("CallGuard", () => {
  const policy = new CallerPolicy(parseApiKeys(`${NORMAL_KEY} NORMAL chart\n${LOW_KEY} LOW backtest`, "keys"));
  const echoMeta = async (req: { priority: Priority }): Promise<{ meta: ResponseMeta }> => ({ meta: create(ResponseMetaSchema, { priority: req.priority }) });

  it("serves a request asking above its key's ceiling at the ceiling, flagged in the meta", async () => {
    const guard = new CallGuard({ policy, streams: new StreamQuota(10), maxMarketsPerCall: 2_000 });
    const unary = guard.unary("NORMAL", echoMeta);
    const capped = await unary(create(GetTickersRequestSchema, { priority: Priority.CRITICAL }), ctxWith(NORMAL_KEY));
    expect(capped.meta).toMatchObject({ priority: Priority.NORMAL, priorityCapped: true });
    const within = await unary(create(GetTickersRequestSchema, { priority: Priority.LOW }), ctxWith(NORMAL_KEY));
    expect(within.meta).toMatchObject({ priority: Priority.LOW, priorityCapped: false });
    const unspecified = await unary(create(GetTickersRequestSchema, {}), ctxWith(LOW_KEY));
    expect(unspecified.meta).toMatchObject({ priority: Priority.LOW, priorityCapped: true });
  });

  it("asks every RPC for a key when keys are configured, GetStats too", async () => {
    const guard = new CallGuard({ policy, streams: new StreamQuota(10), maxMarketsPerCall: 2_000 });
    const stats = guard.unary(undefined, async () => "stats");
    expect(await rejection(stats(create(GetStatsRequestSchema, {}), ctxWith()))).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await stats(create(GetStatsRequestSchema, {}), ctxWith(LOW_KEY))).toBe("stats");
  });

  it("refuses more distinct markets than the limit, naming the field and the variable", async () => {
    const guard = new CallGuard({ policy: new CallerPolicy(undefined), streams: new StreamQuota(10), maxMarketsPerCall: 2 });
    const unary = guard.unary("NORMAL", async (req: { markets: string[] }) => req.markets.length);
    expect(await unary(create(GetTickersRequestSchema, { markets: ["KRW-BTC", "KRW-ETH", "KRW-BTC"] }), ctxWith())).toBe(3);
    expect(await rejection(unary(create(GetTickersRequestSchema, { markets: ["KRW-BTC", "KRW-ETH", "KRW-XRP"] }), ctxWith()))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "markets: 3 distinct markets is more than the 2 one call may name on this gateway (BACKBONE_MAX_MARKETS_PER_CALL)",
    });
  });

  it("holds a quota slot per stream while its handler runs, counting a key as one client across peers", async () => {
    const streams = new StreamQuota(1);
    const guard = new CallGuard({ policy, streams, maxMarketsPerCall: 2_000 });
    let finish = () => {};
    const running = new Promise<void>((resolve) => (finish = resolve));
    const sent: unknown[] = [];
    const send: Send<unknown> = async (m) => void sent.push(m);
    const handler = guard.stream("127.0.0.1:1000", "NORMAL", async (req: { priority: Priority }, out: Send<unknown>) => {
      await out({ batch: req.priority, meta: create(ResponseMetaSchema, { priority: req.priority }) });
      await running;
    });
    const first = handler(create(GetTickersRequestSchema, { priority: Priority.HIGH }), send, ctxWith(NORMAL_KEY));
    expect(streams.openBy('API key "chart"')).toBe(1);
    expect(await rejection(handler(create(GetTickersRequestSchema, {}), send, ctxWith(NORMAL_KEY)))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    // Another key is another client.
    const other = handler(create(GetTickersRequestSchema, {}), send, ctxWith(LOW_KEY));
    finish();
    await Promise.all([first, other]);
    expect(streams.openBy('API key "chart"')).toBe(0);
    expect(sent[0]).toMatchObject({ batch: Priority.NORMAL, meta: { priority: Priority.NORMAL, priorityCapped: true } });
  });
});
