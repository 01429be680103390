import type { Timeframe } from "../../shared/timeframe.js";
import type { LowPriorityGate } from "../scheduler/low-priority-gate.js";
import { SharedFlights } from "../shared-flight.js";
import { isStoreUnavailableError, type StoreClient } from "../store-client.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { UpbitRestClient } from "../upstream/upbit-rest-client.js";
import type { CandleWindow } from "./candle-windows.js";
import type { CoverageCache } from "./coverage-cache.js";
import { type FetchedWindow, fetchWindow } from "./upstream-window.js";

/** A fetched window and whether it reached the store. */
export interface Flight {
  readonly window: FetchedWindow;
  readonly stored: boolean;
}

export interface WindowFetchOptions {
  priority: Priority;
  signal: AbortSignal;
  nowMs: number;
  /** The store has failed this request: fetch only, do not try to write. */
  memoryOnly: boolean;
}

/**
 * Fetches grid windows from Upbit and writes each with the coverage it verifies, once however many
 * requests (GetCandles, FetchCandleRange, candle streams) need it at the same time; a window's
 * fetch is cancelled only when every request waiting for it is.
 */
export class WindowFetcher {
  private readonly flights = new SharedFlights<Flight>();

  constructor(
    private readonly deps: { upbit: UpbitRestClient; lowGate: LowPriorityGate; store: StoreClient },
    private readonly coverage: CoverageCache,
  ) {}

  /** Windows being fetched right now, over all requests. */
  get inFlight(): number {
    return this.flights.size;
  }

  /** The window's flight; `joined` when another request had already started it (no call of this one's). */
  fetch(market: string, tf: Timeframe, w: CandleWindow, o: WindowFetchOptions): { promise: Promise<Flight>; joined: boolean } {
    const key = `${market}|${tf}|${w.start}|${w.end}`;
    return this.flights.run(key, o.signal, async (signal) => {
      const release = o.priority === "LOW" ? await this.deps.lowGate.admit(signal) : undefined;
      let window: FetchedWindow;
      try {
        window = await fetchWindow(this.deps.upbit, market, tf, w, { priority: o.priority, signal, nowMs: o.nowMs });
      } finally {
        release?.();
      }
      if (o.memoryOnly) return { window, stored: false };
      try {
        await this.deps.store.write([{ market, timeframe: tf, candles: window.candles, verified: [window.verified] }], { signal });
        this.coverage.learn(market, tf, [window.verified]);
        return { window, stored: true };
      } catch (e) {
        if (isStoreUnavailableError(e)) return { window, stored: false };
        throw e;
      }
    });
  }
}
