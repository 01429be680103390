import { NotFoundError } from "../shared/errors.js";
import { checkMarketCode } from "../shared/market-code.js";
import type { Priority } from "./upstream/rate-limiter.js";
import type { UpbitRestClient } from "./upstream/upbit-rest-client.js";
import type { UpbitMarket } from "./upstream/upbit-types.js";

/** How long a fetched market list is served before it is fetched again. */
export const MARKET_LIST_TTL_MS = 10 * 60_000;

export interface MarketList {
  readonly markets: readonly UpbitMarket[];
  readonly byCode: ReadonlyMap<string, UpbitMarket>;
  readonly fetchedAtMs: number;
}

/** `code` (already well-formed) in `list`, or NOT_FOUND naming `field`. */
export function requireListed(list: MarketList, code: string, field: string): UpbitMarket {
  const market = list.byCode.get(code);
  if (!market) throw new NotFoundError(`${field}: ${code} is not a market Upbit lists`);
  return market;
}

/**
 * Upbit's market list, fetched once and refreshed after `MARKET_LIST_TTL_MS`. Market codes in
 * requests are checked against it, never by asking Upbit about each one. A failed refresh keeps
 * serving the old list: markets are listed and delisted rarely, and Upbit being down must not
 * turn every request into an error.
 */
export class MarketCatalog {
  private current: MarketList | undefined;
  private refreshing: Promise<MarketList> | undefined;
  /** Upstream calls made by refreshes, for ResponseMeta. */
  private calls = 0;

  constructor(
    private readonly upbit: UpbitRestClient,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = MARKET_LIST_TTL_MS,
  ) {}

  /** The list, and how many upstream calls getting it took (0 when cached). */
  async list(priority: Priority, signal?: AbortSignal): Promise<{ list: MarketList; upstreamCalls: number }> {
    const cached = this.current;
    if (cached && this.now() - cached.fetchedAtMs < this.ttlMs) return { list: cached, upstreamCalls: 0 };
    const before = this.calls;
    try {
      const list = await this.refresh(priority, signal);
      return { list, upstreamCalls: this.calls - before };
    } catch (e) {
      if (cached && !signal?.aborted) return { list: cached, upstreamCalls: this.calls - before };
      throw e;
    }
  }

  /** `code` checked for form (INVALID_ARGUMENT) and listing (NOT_FOUND), both naming `field`. */
  async require(code: string, field: string, priority: Priority, signal?: AbortSignal): Promise<UpbitMarket> {
    checkMarketCode(code, field);
    return requireListed((await this.list(priority, signal)).list, code, field);
  }

  /** Market codes of the given quote currencies, in Upbit's order. */
  async codesOfQuotes(quotes: readonly string[], priority: Priority, signal?: AbortSignal): Promise<string[]> {
    const { list } = await this.list(priority, signal);
    const wanted = new Set(quotes);
    return list.markets.filter((m) => wanted.has(m.market.slice(0, m.market.indexOf("-")))).map((m) => m.market);
  }

  private refresh(priority: Priority, signal?: AbortSignal): Promise<MarketList> {
    // One refresh at a time; callers share it. It is not tied to one caller's signal, so a
    // cancelled caller does not fail the others.
    this.refreshing ??= (async () => {
      try {
        this.calls++;
        const markets = await this.upbit.listMarkets(true, { priority });
        const list: MarketList = { markets, byCode: new Map(markets.map((m) => [m.market, m])), fetchedAtMs: this.now() };
        this.current = list;
        return list;
      } finally {
        this.refreshing = undefined;
      }
    })();
    if (!signal) return this.refreshing;
    return Promise.race([
      this.refreshing,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
  }
}
