import type { StatsResponse } from "../../gen/backbone/storage/v1/storage_pb.js";
import type { StoreClient } from "../store-client.js";

/** The daemon's last answer to Stats, or why there was none. */
export type StoreReading =
  | { readonly ok: true; readonly atMs: number; readonly stats: StatsResponse }
  | { readonly ok: false; readonly atMs: number; readonly error: string };

export interface StoreStatsPollerOptions {
  /** A reading younger than this is reused: Stats counts every series' rows. Default 5,000 ms. */
  maxAgeMs?: number;
  /** Longest wait for the daemon; past it the daemon counts as down. Default 3,000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Reads the storage daemon's Stats for scrapes and the status page, at most once per `maxAgeMs`
 * however often they ask, and one call at a time. A failed call is a reading too: the daemon's
 * health is what the metrics report then.
 */
export class StoreStatsPoller {
  private last: StoreReading | undefined;
  private inFlight: Promise<StoreReading> | undefined;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Pick<StoreClient, "stats">,
    options: StoreStatsPollerOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.now = options.now ?? Date.now;
  }

  read(): Promise<StoreReading> {
    if (this.last !== undefined && this.now() - this.last.atMs < this.maxAgeMs) return Promise.resolve(this.last);
    this.inFlight ??= this.fetch().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** The last reading without asking the daemon; undefined before the first. */
  peek(): StoreReading | undefined {
    return this.last;
  }

  private async fetch(): Promise<StoreReading> {
    let reading: StoreReading;
    try {
      const stats = await this.store.stats({ signal: AbortSignal.timeout(this.timeoutMs) });
      reading = { ok: true, atMs: this.now(), stats };
    } catch (e) {
      reading = { ok: false, atMs: this.now(), error: e instanceof Error ? e.message : String(e) };
    }
    this.last = reading;
    return reading;
  }
}
