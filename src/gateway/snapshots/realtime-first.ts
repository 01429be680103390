import type { Logger } from "../../shared/logger.js";
import type { MetaRecorder } from "../response-meta.js";
import { isStoreUnavailableError } from "../store-client.js";
import { UpstreamProtocolError, isAbortError } from "../upstream/upstream-errors.js";
import { allOrAbort } from "./all-or-abort.js";
import { splitMarketList } from "./market-batches.js";

/** A value of the daemon's realtime cache and when the daemon stored it (its clock, UTC ms). */
export interface CachedValue<T> {
  value: T;
  storedAtMs: number;
}

/** One kind of per-market snapshot (tickers, order books): where to read, fetch and store it. */
export interface SnapshotSource<T> {
  /** `ticker`, `orderbook`: for logs. */
  readonly kind: string;
  /** The REST path the fetches use, named when Upbit's answer lacks a market. */
  readonly endpoint: string;
  /** The gateway's own current value (a streamed market), checked before the daemon's cache. */
  readLocal(code: string): CachedValue<T> | undefined;
  /** What the cache holds for these markets; absent = nothing. May throw StoreUnavailableError. */
  readCache(codes: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, CachedValue<T>>>;
  /** Whether a cached value answers this request (fresh enough for it, deep enough, ...). */
  usable(cached: CachedValue<T>): boolean;
  /** One upstream call for these markets. */
  fetch(codes: readonly string[], signal: AbortSignal): Promise<T[]>;
  /** Stores fetched values in the cache. */
  writeCache(values: readonly T[]): Promise<void>;
  marketOf(value: T): string;
}

/**
 * The value of each market in `codes` (distinct, checked), in that order: from the realtime hub
 * or else the daemon's realtime cache where they hold a usable value (the daemon is not asked
 * when the hub answers everything), the rest from Upbit in split calls run in parallel.
 * Fetched values are written back to the cache behind the answer: the answer never waits for
 * that write, and a failed write only costs a log line. When the daemon is down everything comes
 * from Upbit. `meta` learns which sources answered and the calls made.
 */
export async function realtimeFirst<T>(
  codes: readonly string[],
  source: SnapshotSource<T>,
  signal: AbortSignal,
  meta: MetaRecorder,
  log: Logger,
): Promise<T[]> {
  const fromCache = new Map<string, T>();
  for (const code of codes) {
    const entry = source.readLocal(code);
    if (entry !== undefined && source.usable(entry)) fromCache.set(code, entry.value);
  }
  const notLocal = fromCache.size === 0 ? codes : codes.filter((c) => !fromCache.has(c));
  const cached = notLocal.length === 0 ? new Map<string, CachedValue<T>>() : await readCacheOrNothing(notLocal, source, signal, log);
  for (const code of notLocal) {
    const entry = cached.get(code);
    if (entry !== undefined && source.usable(entry)) fromCache.set(code, entry.value);
  }
  if (fromCache.size > 0) meta.servedFromCache();

  const missing = codes.filter((c) => !fromCache.has(c));
  const fetched = new Map<string, T>();
  if (missing.length > 0) {
    const batches = splitMarketList(missing);
    meta.splits += batches.length;
    const answers = await allOrAbort(batches, (batch, s) => source.fetch(batch, s), signal);
    meta.servedFromUpstream(batches.length);
    // Keyed by market: Upbit does not promise to answer in the order asked (API.md §1.6).
    for (const value of answers.flat()) fetched.set(source.marketOf(value), value);
    for (const code of missing) {
      if (!fetched.has(code)) throw new UpstreamProtocolError(source.endpoint, "markets", `answer lacks ${code}, which was asked for`);
    }
    writeBehind([...fetched.values()], source, log);
  }
  return codes.map((c) => (fromCache.get(c) ?? fetched.get(c)) as T);
}

/** The cache's entries, or none when the daemon cannot answer: the cache only saves calls. */
async function readCacheOrNothing<T>(
  codes: readonly string[],
  source: SnapshotSource<T>,
  signal: AbortSignal,
  log: Logger,
): Promise<ReadonlyMap<string, CachedValue<T>>> {
  try {
    return await source.readCache(codes, signal);
  } catch (e) {
    if (signal.aborted || isAbortError(e)) throw e;
    if (isStoreUnavailableError(e)) log.warn("realtime cache unavailable; serving from upstream", { kind: source.kind, error: e.message });
    else log.error("realtime cache read failed; serving from upstream", { kind: source.kind, error: e instanceof Error ? e.message : String(e) });
    return new Map();
  }
}

function writeBehind<T>(values: readonly T[], source: SnapshotSource<T>, log: Logger): void {
  if (values.length === 0) return;
  source.writeCache(values).catch((e: unknown) => {
    log.warn("realtime cache write failed", { kind: source.kind, values: values.length, error: e instanceof Error ? e.message : String(e) });
  });
}

/** The hub's current value in the cache's terms. */
export function storedAs<T>(current: { value: T; asOfMs: number } | undefined): CachedValue<T> | undefined {
  return current === undefined ? undefined : { value: current.value, storedAtMs: current.asOfMs };
}
