import { describe, expect, it } from "vitest";
import { Source } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { MetaRecorder } from "../../../src/gateway/response-meta.js";
import { allOrAbort } from "../../../src/gateway/snapshots/all-or-abort.js";
import { type CachedValue, realtimeFirst, type SnapshotSource } from "../../../src/gateway/snapshots/realtime-first.js";
import { isFresh } from "../../../src/gateway/snapshots/staleness.js";
import { StoreUnavailableError } from "../../../src/gateway/store-client.js";
import { isUpstreamProtocolError } from "../../../src/gateway/upstream/upstream-errors.js";
import { silentLogger } from "../../../src/shared/logger.js";

/** A snapshot value: the market and where it came from. */
interface Snap {
  market: string;
  from: "hub" | "cache" | "upstream";
}

const NOW = 1_000_000;
const MAX_AGE = 1_000;

/**
 * A source over an in-memory cache (market -> storedAtMs) and hub (the same), recording what the
 * cache and upstream were asked.
 */
function fakeSource(cache: Record<string, number>, overrides: Partial<SnapshotSource<Snap>> = {}, hub: Record<string, number> = {}) {
  const fetched: string[][] = [];
  const written: Snap[][] = [];
  const cacheReads: string[][] = [];
  const source: SnapshotSource<Snap> = {
    kind: "test",
    endpoint: "/v1/test",
    readLocal: (code) => (hub[code] === undefined ? undefined : { value: { market: code, from: "hub" }, storedAtMs: hub[code] }),
    readCache: async (codes) => {
      cacheReads.push([...codes]);
      const found = new Map<string, CachedValue<Snap>>();
      for (const c of codes) if (cache[c] !== undefined) found.set(c, { value: { market: c, from: "cache" }, storedAtMs: cache[c] });
      return found;
    },
    usable: (c) => isFresh(c.storedAtMs, NOW, MAX_AGE),
    fetch: async (codes) => {
      fetched.push([...codes]);
      // Upbit does not promise order: answer reversed.
      return [...codes].reverse().map((market) => ({ market, from: "upstream" as const }));
    },
    writeCache: async (values) => void written.push([...values]),
    marketOf: (s) => s.market,
    ...overrides,
  };
  return { source, fetched, written, cacheReads };
}

const run = (codes: readonly string[], source: SnapshotSource<Snap>, meta = new MetaRecorder("CRITICAL")) =>
  realtimeFirst(codes, source, new AbortController().signal, meta, silentLogger);

describe("realtimeFirst", () => {
  it("answers from the cache alone when every value is fresh enough", async () => {
    const { source, fetched } = fakeSource({ "KRW-BTC": NOW - 10, "KRW-ETH": NOW - MAX_AGE });
    const meta = new MetaRecorder("CRITICAL");
    const values = await run(["KRW-ETH", "KRW-BTC"], source, meta);
    expect(values).toEqual([
      { market: "KRW-ETH", from: "cache" },
      { market: "KRW-BTC", from: "cache" },
    ]);
    expect(fetched).toEqual([]);
    expect(meta.build()).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0, splits: 0 });
  });

  it("asks the daemon's cache nothing when the hub holds every value fresh enough", async () => {
    const { source, fetched, cacheReads } = fakeSource({ "KRW-BTC": NOW }, {}, { "KRW-BTC": NOW, "KRW-ETH": NOW - 5 });
    const meta = new MetaRecorder("CRITICAL");
    expect((await run(["KRW-ETH", "KRW-BTC"], source, meta)).map((v) => `${v.market}:${v.from}`)).toEqual(["KRW-ETH:hub", "KRW-BTC:hub"]);
    expect(cacheReads).toEqual([]);
    expect(fetched).toEqual([]);
    expect(meta.build()).toMatchObject({ source: Source.REALTIME_CACHE, upstreamCalls: 0 });
  });

  it("asks the daemon's cache only for what the hub lacks or holds too old, then upstream for the rest", async () => {
    const { source, fetched, cacheReads } = fakeSource({ "KRW-ETH": NOW - 10, "KRW-XRP": NOW - MAX_AGE - 1 }, {}, { "KRW-BTC": NOW, "KRW-ETH": NOW - MAX_AGE - 1 });
    const values = await run(["KRW-XRP", "KRW-BTC", "KRW-ETH"], source);
    expect(values.map((v) => `${v.market}:${v.from}`)).toEqual(["KRW-XRP:upstream", "KRW-BTC:hub", "KRW-ETH:cache"]);
    expect(cacheReads).toEqual([["KRW-XRP", "KRW-ETH"]]);
    expect(fetched).toEqual([["KRW-XRP"]]);
  });

  it("fetches only the stale and absent markets, answers in request order and writes them back", async () => {
    const { source, fetched, written } = fakeSource({ "KRW-BTC": NOW - 10, "KRW-ETH": NOW - MAX_AGE - 1 });
    const meta = new MetaRecorder("HIGH");
    const values = await run(["KRW-XRP", "KRW-BTC", "KRW-ETH"], source, meta);
    expect(values.map((v) => `${v.market}:${v.from}`)).toEqual(["KRW-XRP:upstream", "KRW-BTC:cache", "KRW-ETH:upstream"]);
    expect(fetched).toEqual([["KRW-XRP", "KRW-ETH"]]);
    expect(meta.build()).toMatchObject({ source: Source.MIXED, upstreamCalls: 1, splits: 1 });
    await Promise.resolve();
    expect(written.flat().map((v) => v.market).sort()).toEqual(["KRW-ETH", "KRW-XRP"]);
  });

  it("splits many missing markets into parallel calls of at most 100", async () => {
    const codes = Array.from({ length: 250 }, (_, i) => `KRW-M${i}`);
    let started = 0;
    const release: Array<() => void> = [];
    const { source, fetched } = fakeSource({});
    const inner = source.fetch;
    source.fetch = async (batch, signal) => {
      started++;
      // Every call waits until all three have started: they must be in flight together.
      await new Promise<void>((resolve) => {
        release.push(resolve);
        if (started === 3) release.forEach((r) => r());
      });
      return inner(batch, signal);
    };
    const meta = new MetaRecorder("NORMAL");
    const values = await run(codes, source, meta);
    expect(values.map((v) => v.market)).toEqual(codes);
    expect(fetched.map((b) => b.length).sort()).toEqual([100, 100, 50]);
    expect(meta.build()).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 3, splits: 3 });
  });

  it("does not wait for the cache write, and a failed write does not fail the answer", async () => {
    const never = fakeSource({}, { writeCache: () => new Promise<void>(() => {}) });
    expect(await run(["KRW-BTC"], never.source)).toEqual([{ market: "KRW-BTC", from: "upstream" }]);
    const failing = fakeSource({}, { writeCache: () => Promise.reject(new StoreUnavailableError("daemon gone")) });
    expect(await run(["KRW-BTC"], failing.source)).toEqual([{ market: "KRW-BTC", from: "upstream" }]);
  });

  it("serves everything from upstream when the daemon is down", async () => {
    const { source, fetched } = fakeSource(
      { "KRW-BTC": NOW },
      {
        readCache: () => Promise.reject(new StoreUnavailableError("connect ECONNREFUSED")),
      },
    );
    const meta = new MetaRecorder("CRITICAL");
    expect((await run(["KRW-BTC", "KRW-ETH"], source, meta)).map((v) => v.from)).toEqual(["upstream", "upstream"]);
    expect(fetched).toEqual([["KRW-BTC", "KRW-ETH"]]);
    expect(meta.build()).toMatchObject({ source: Source.UPSTREAM, upstreamCalls: 1 });
  });

  it("refuses an upstream answer that lacks a market it was asked for", async () => {
    const { source } = fakeSource({}, { fetch: async () => [{ market: "KRW-BTC", from: "upstream" }] });
    const error = await run(["KRW-BTC", "KRW-ETH"], source).catch((e: unknown) => e);
    expect(isUpstreamProtocolError(error)).toBe(true);
    expect((error as Error).message).toContain("KRW-ETH");
  });
});

describe("allOrAbort", () => {
  it("aborts the other runs when one fails, and rethrows that failure", async () => {
    const seen: AbortSignal[] = [];
    const failure = new Error("boom");
    const error = await allOrAbort(
      [0, 1, 2],
      (i, signal) => {
        seen.push(signal);
        if (i === 1) return Promise.reject(failure);
        return new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
      },
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });

  it("aborts every run when the caller cancels", async () => {
    const parent = new AbortController();
    const seen: AbortSignal[] = [];
    const pending = allOrAbort(
      [0, 1],
      (_, signal) => {
        seen.push(signal);
        return new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
      },
      parent.signal,
    ).catch((e: unknown) => e);
    parent.abort(new Error("client went away"));
    expect(((await pending) as Error).message).toBe("client went away");
    expect(seen.every((s) => s.aborted)).toBe(true);
  });
});
