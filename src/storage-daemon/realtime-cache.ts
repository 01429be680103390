import NodeCache from "node-cache";
import type { Orderbook, Ticker, Trade } from "../gen/backbone/marketdata/v1/market_data_pb.js";

export type RealtimeKind = "ticker" | "orderbook" | "trades";

export interface RealtimeCacheOptions {
  /** Time to live per kind, milliseconds. Default: ticker 10_000, orderbook 10_000, trades 60_000. */
  ttlMs?: Partial<Record<RealtimeKind, number>>;
  /** Most markets held per kind; beyond it the least recently stored market is evicted. Default 5_000. */
  maxEntriesPerKind?: number;
  /** Most recent trades kept per market. Default 500. */
  maxTradesPerMarket?: number;
  /** Clock, UTC ms. Default Date.now. Injected so tests need no sleeps. */
  now?: () => number;
}

export interface Stored<T> {
  value: T;
  storedAtMs: number;
}

/** Trades of one market, newest first. */
export interface StoredTrades {
  market: string;
  trades: Trade[];
  storedAtMs: number;
}

export interface PutResult {
  accepted: number;
  ignored: number;
}

export interface CacheKindStats {
  kind: RealtimeKind;
  entries: number;
  hits: number;
  misses: number;
  hitRatio: number;
}

const DEFAULT_TTL_MS: Record<RealtimeKind, number> = { ticker: 10_000, orderbook: 10_000, trades: 60_000 };
const DEFAULT_MAX_ENTRIES = 5_000;
const DEFAULT_MAX_TRADES = 500;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * One kind's markets. node-cache does the background sweep (on the real clock) so that
 * markets nobody reads still leave memory; reads decide expiry on the injected clock.
 * `order` mirrors the cache's keys in store order, so the eviction victim is its first key.
 */
class KindStore<V extends { storedAtMs: number }> {
  private readonly cache: NodeCache;
  private readonly order = new Map<string, true>();
  private hits = 0;
  private misses = 0;

  constructor(
    readonly kind: RealtimeKind,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {
    this.cache = new NodeCache({
      stdTTL: ttlMs / 1000,
      checkperiod: Math.max(1, Math.ceil(ttlMs / 1000)),
      // Values are never mutated after being stored, so cloning would only cost time.
      useClones: false,
    });
    // The sweep deletes behind our back; keep `order` from holding keys the cache dropped.
    this.cache.on("expired", (key: string) => this.order.delete(key));
  }

  /** The live entry for `market`, without counting a read. */
  peek(market: string): V | undefined {
    const entry = this.cache.get<V>(market);
    if (entry === undefined) return undefined;
    if (this.now() - entry.storedAtMs >= this.ttlMs) {
      this.delete(market);
      return undefined;
    }
    return entry;
  }

  get(market: string): V | undefined {
    const entry = this.peek(market);
    if (entry === undefined) this.misses++;
    else this.hits++;
    return entry;
  }

  set(market: string, entry: V): void {
    if (this.order.has(market)) {
      // Re-inserting moves the market to the end: it is now the most recently stored.
      this.order.delete(market);
    } else if (this.order.size >= this.maxEntries) {
      const oldest = this.order.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    this.order.set(market, true);
    this.cache.set(market, entry);
  }

  stats(): CacheKindStats {
    const reads = this.hits + this.misses;
    return {
      kind: this.kind,
      entries: this.order.size,
      hits: this.hits,
      misses: this.misses,
      hitRatio: reads === 0 ? 0 : this.hits / reads,
    };
  }

  close(): void {
    this.cache.close();
  }

  private delete(market: string): void {
    this.order.delete(market);
    this.cache.del(market);
  }
}

/** Newest first: by trade time, then by sequential id (ties within one millisecond). */
function newestFirst(a: Trade, b: Trade): number {
  if (a.tradeTimeMs !== b.tradeTimeMs) return a.tradeTimeMs > b.tradeTimeMs ? -1 : 1;
  if (a.sequentialId !== b.sequentialId) return a.sequentialId > b.sequentialId ? -1 : 1;
  return 0;
}

/** Latest tickers, order books and recent trades per market, bounded in count and age. */
export class RealtimeCache {
  private readonly tickers: KindStore<Stored<Ticker>>;
  private readonly orderbooks: KindStore<Stored<Orderbook>>;
  private readonly trades: KindStore<StoredTrades>;
  private readonly maxTradesPerMarket: number;
  private readonly now: () => number;

  constructor(options: RealtimeCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    const maxEntries = positiveInteger("maxEntriesPerKind", options.maxEntriesPerKind ?? DEFAULT_MAX_ENTRIES);
    this.maxTradesPerMarket = positiveInteger(
      "maxTradesPerMarket",
      options.maxTradesPerMarket ?? DEFAULT_MAX_TRADES,
    );
    // node-cache reads a TTL of 0 as "never expires", so only positive TTLs are allowed.
    const ttl = (kind: RealtimeKind): number =>
      positiveInteger(`ttlMs.${kind}`, options.ttlMs?.[kind] ?? DEFAULT_TTL_MS[kind]);
    this.tickers = new KindStore("ticker", ttl("ticker"), maxEntries, this.now);
    this.orderbooks = new KindStore("orderbook", ttl("orderbook"), maxEntries, this.now);
    this.trades = new KindStore("trades", ttl("trades"), maxEntries, this.now);
  }

  putTickers(tickers: readonly Ticker[]): PutResult {
    return this.putLatest(this.tickers, tickers);
  }

  putOrderbooks(books: readonly Orderbook[]): PutResult {
    return this.putLatest(this.orderbooks, books);
  }

  putTrades(trades: readonly Trade[]): PutResult {
    const byMarket = new Map<string, Trade[]>();
    for (const t of trades) {
      const list = byMarket.get(t.market);
      if (list === undefined) byMarket.set(t.market, [t]);
      else list.push(t);
    }
    const storedAtMs = this.now();
    let accepted = 0;
    for (const [market, incoming] of byMarket) {
      const held = this.trades.peek(market)?.trades ?? [];
      const seen = new Set(held.map((t) => t.sequentialId));
      const fresh: Trade[] = [];
      for (const t of incoming) {
        if (seen.has(t.sequentialId)) continue;
        seen.add(t.sequentialId);
        fresh.push(t);
      }
      if (fresh.length === 0) continue;
      accepted += fresh.length;
      // A new array, never the held one: readers may still hold the previous list.
      const merged = [...held, ...fresh].sort(newestFirst).slice(0, this.maxTradesPerMarket);
      this.trades.set(market, { market, trades: merged, storedAtMs });
    }
    return { accepted, ignored: trades.length - accepted };
  }

  getTicker(market: string): Stored<Ticker> | undefined {
    return this.tickers.get(market);
  }

  getOrderbook(market: string): Stored<Orderbook> | undefined {
    return this.orderbooks.get(market);
  }

  /** `limit` 0 or undefined returns every trade kept. */
  getTrades(market: string, limit?: number): StoredTrades | undefined {
    const entry = this.trades.get(market);
    if (entry === undefined || !limit || limit <= 0 || limit >= entry.trades.length) return entry;
    return { ...entry, trades: entry.trades.slice(0, limit) };
  }

  stats(): CacheKindStats[] {
    return [this.tickers.stats(), this.orderbooks.stats(), this.trades.stats()];
  }

  close(): void {
    this.tickers.close();
    this.orderbooks.close();
    this.trades.close();
  }

  private putLatest<T extends { market: string; timestampMs: bigint }>(
    store: KindStore<Stored<T>>,
    values: readonly T[],
  ): PutResult {
    const storedAtMs = this.now();
    let accepted = 0;
    for (const value of values) {
      const held = store.peek(value.market);
      // Feeds can deliver out of order; an older snapshot must not hide a newer one.
      if (held !== undefined && value.timestampMs < held.value.timestampMs) continue;
      store.set(value.market, { value, storedAtMs });
      accepted++;
    }
    return { accepted, ignored: values.length - accepted };
  }
}
