import { InvalidArgumentError, NotFoundError } from "../../shared/errors.js";
import { checkMarketCode } from "../../shared/market-code.js";
import type { GatewayDeps } from "../gateway-deps.js";
import type { MetaRecorder } from "../response-meta.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { requireListed } from "../market-catalog.js";

/**
 * Most distinct markets one snapshot request may name. Upbit lists under 900 pairs, so this only
 * stops abuse; it is also the most the storage daemon reads from its cache in one call.
 */
export const MAX_SNAPSHOT_MARKETS = 2_000;

/** Upbit's quote currencies are upper-case letters (`KRW`, `BTC`, `USDT`), as in market codes. */
const QUOTE_CURRENCY = /^[A-Z]{2,10}$/;

/** A market code and the request field it came from (`markets[3]`), for error messages. */
export interface RequestedMarket {
  code: string;
  field: string;
}

/** Each code checked for form (INVALID_ARGUMENT naming `field[i]`); duplicates collapse to the first. */
export function uniqueMarketCodes(codes: readonly string[], field = "markets"): RequestedMarket[] {
  const seen = new Set<string>();
  const out: RequestedMarket[] = [];
  codes.forEach((code, i) => {
    const itemField = `${field}[${i}]`;
    checkMarketCode(code, itemField);
    if (seen.has(code)) return;
    seen.add(code);
    out.push({ code, field: itemField });
  });
  checkMarketCount(out.length, field);
  return out;
}

/** Each quote checked for form (INVALID_ARGUMENT naming `field[i]`); duplicates collapse. */
export function uniqueQuoteCurrencies(quotes: readonly string[], field = "quote_currencies"): RequestedMarket[] {
  const seen = new Set<string>();
  const out: RequestedMarket[] = [];
  quotes.forEach((quote, i) => {
    const itemField = `${field}[${i}]`;
    if (!QUOTE_CURRENCY.test(quote)) {
      throw new InvalidArgumentError(itemField, JSON.stringify(quote), "is not a quote currency: expected upper-case letters, e.g. KRW");
    }
    if (seen.has(quote)) return;
    seen.add(quote);
    out.push({ code: quote, field: itemField });
  });
  return out;
}

/** `limit` below MAX_SNAPSHOT_MARKETS comes from BACKBONE_MAX_MARKETS_PER_CALL, which the message then names. */
function checkMarketCount(count: number, field: string, limit = MAX_SNAPSHOT_MARKETS): void {
  if (count > limit) {
    const source = limit < MAX_SNAPSHOT_MARKETS ? " on this gateway (BACKBONE_MAX_MARKETS_PER_CALL)" : "";
    throw new InvalidArgumentError(field, `${count} distinct markets`, `is more than the ${limit} one request may name${source}`);
  }
}

export interface MarketSelection {
  markets: readonly string[];
  quoteCurrencies?: readonly string[];
}

/**
 * The distinct markets a request names, in request order, then the markets of its quote
 * currencies in Upbit's order. Every code is checked against Upbit's market list (NOT_FOUND
 * naming the field), never by asking Upbit about it; refreshing that list is counted in `meta`.
 * Form is checked first, so malformed input never costs an upstream call.
 */
export async function resolveMarkets(
  deps: GatewayDeps,
  selection: MarketSelection,
  priority: Priority,
  signal: AbortSignal,
  meta: MetaRecorder,
): Promise<string[]> {
  const markets = uniqueMarketCodes(selection.markets);
  const quotes = uniqueQuoteCurrencies(selection.quoteCurrencies ?? []);
  if (markets.length === 0 && quotes.length === 0) {
    const alternative = selection.quoteCurrencies === undefined ? "" : " or set quote_currencies";
    throw new InvalidArgumentError("markets", "[]", `must name at least one market${alternative}`);
  }
  // One list read, so the meta counts the refresh it may cost; every market is checked against it.
  const { list, upstreamCalls } = await deps.markets.list(priority, signal);
  meta.upstreamCalls += upstreamCalls;
  const codes: string[] = [];
  const seen = new Set<string>();
  for (const m of markets) {
    requireListed(list, m.code, m.field);
    codes.push(m.code);
    seen.add(m.code);
  }
  for (const q of quotes) {
    const ofQuote = await deps.markets.codesOfQuotes([q.code], priority, signal);
    if (ofQuote.length === 0) throw new NotFoundError(`${q.field}: ${q.code} is the quote currency of no market Upbit lists`);
    for (const code of ofQuote) {
      if (seen.has(code)) continue;
      seen.add(code);
      codes.push(code);
    }
  }
  // Quote currencies expand here, so the gateway's own limit is checked again on the result.
  checkMarketCount(codes.length, "markets", Math.min(MAX_SNAPSHOT_MARKETS, deps.config.maxMarketsPerCall));
  return codes;
}
