/**
 * Puts what the hub receives into the storage daemon's realtime cache, in batches: at most one
 * PutRealtime in flight, holding the latest ticker and book per market (older ones are replaced
 * while waiting, so a slow or dead daemon costs a bounded map, never a queue) and the trades since
 * the last batch (bounded; the oldest are dropped beyond `maxPendingTrades`). Never blocks the
 * fan-out: `offer` only touches maps. A daemon that is down costs a warning per outage.
 */
import type { Orderbook, Ticker, Trade } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { Logger } from "../../shared/logger.js";
import type { StoreClient } from "../store-client.js";

/** Trades waiting for the next batch, at most; the daemon keeps only the recent ones anyway. */
export const DEFAULT_MAX_PENDING_TRADES = 10_000;

export interface CacheBatch {
  tickers: Ticker[];
  orderbooks: Orderbook[];
  trades: Trade[];
}

export interface RealtimeCacheWriterStats {
  /** Values waiting for the next batch. */
  pending: number;
  /** Batches the daemon accepted. */
  batches: number;
  /** Batches that failed (daemon down, ...); their values are gone. */
  failedBatches: number;
  /** Trades dropped because too many were waiting. */
  droppedTrades: number;
}

export class RealtimeCacheWriter {
  private tickers = new Map<string, Ticker>();
  private orderbooks = new Map<string, Orderbook>();
  private trades: Trade[] = [];
  private inFlight = false;
  private failing = false;
  private readonly counters = { batches: 0, failedBatches: 0, droppedTrades: 0 };
  private readonly written = new Set<(batch: CacheBatch) => void>();

  constructor(
    private readonly store: Pick<StoreClient, "putRealtime">,
    private readonly log: Logger,
    private readonly maxPendingTrades = DEFAULT_MAX_PENDING_TRADES,
  ) {}

  offerTicker(t: Ticker): void {
    this.tickers.set(t.market, t);
  }

  offerOrderbook(b: Orderbook): void {
    this.orderbooks.set(b.market, b);
  }

  offerTrade(t: Trade): void {
    this.trades.push(t);
    if (this.trades.length > this.maxPendingTrades) {
      this.trades.shift();
      this.counters.droppedTrades++;
    }
  }

  get pending(): number {
    return this.tickers.size + this.orderbooks.size + this.trades.length;
  }

  /** Listens to batches the daemon accepted; returns the remover. */
  onWritten(listener: (batch: CacheBatch) => void): () => void {
    this.written.add(listener);
    return () => this.written.delete(listener);
  }

  stats(): RealtimeCacheWriterStats {
    return { pending: this.pending, ...this.counters };
  }

  /** Sends what is waiting, unless a batch is still in flight (it then waits for the next call). */
  flush(): void {
    if (this.inFlight || this.pending === 0) return;
    const batch: CacheBatch = { tickers: [...this.tickers.values()], orderbooks: [...this.orderbooks.values()], trades: this.trades };
    this.tickers = new Map();
    this.orderbooks = new Map();
    this.trades = [];
    this.inFlight = true;
    this.store
      .putRealtime(batch)
      .then(
        () => {
          this.counters.batches++;
          if (this.failing) this.log.info("realtime cache writes work again");
          this.failing = false;
          for (const listener of this.written) {
            try {
              listener(batch);
            } catch (e) {
              this.log.error("realtime cache listener failed", { error: e instanceof Error ? e.message : String(e) });
            }
          }
        },
        (e: unknown) => {
          this.counters.failedBatches++;
          // Once per outage: a dead daemon must not flood the log ten times a second.
          if (!this.failing) this.log.warn("realtime cache write failed; streams go on without it", { error: e instanceof Error ? e.message : String(e) });
          this.failing = true;
        },
      )
      .finally(() => {
        this.inFlight = false;
      });
  }

  /** Drops what is waiting: the cache only saves calls, and shutdown must not wait for the daemon. */
  clear(): void {
    this.tickers = new Map();
    this.orderbooks = new Map();
    this.trades = [];
  }
}
