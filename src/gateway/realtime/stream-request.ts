/** Checks shared by the stream RPCs: the market list, and the order book depth Upbit streams. */
import { InvalidArgumentError } from "../../shared/errors.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { uniqueMarketCodes } from "../snapshots/requested-markets.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { UPBIT_WS_ORDERBOOK_DEPTHS } from "../../shared/upbit-websocket-protocol.js";
import { requireListed } from "../market-catalog.js";

/**
 * Most market entries one stream call may name. Upbit lists under 900 pairs, so a client never
 * needs more; it bounds what one call costs the hub and the client's backlog.
 */
export const MAX_STREAM_MARKETS = 1_000;
/** Order book levels per side when a request says 0. */
export const DEFAULT_STREAM_DEPTH = 30;

/**
 * The distinct markets of a stream request in request order: at least one, at most
 * MAX_STREAM_MARKETS entries, each well-formed (INVALID_ARGUMENT naming `markets[i]`) and listed
 * by Upbit (NOT_FOUND naming it). Form is checked before any upstream call.
 */
export async function resolveStreamMarkets(deps: GatewayDeps, markets: readonly string[], priority: Priority, signal: AbortSignal): Promise<string[]> {
  if (markets.length === 0) throw new InvalidArgumentError("markets", "[]", "must name at least one market");
  if (markets.length > MAX_STREAM_MARKETS) {
    throw new InvalidArgumentError("markets", `${markets.length} entries`, `is more than the ${MAX_STREAM_MARKETS} one stream may name; open several streams`);
  }
  const codes = uniqueMarketCodes(markets);
  const { list } = await deps.markets.list(priority, signal);
  for (const m of codes) requireListed(list, m.code, m.field);
  return codes.map((m) => m.code);
}

/** Levels per side of a streamed book: Upbit streams 1, 5, 15 or 30; 0 = 30. */
export function streamOrderbookDepth(depth: number): number {
  if (depth === 0) return DEFAULT_STREAM_DEPTH;
  if (!UPBIT_WS_ORDERBOOK_DEPTHS.includes(depth)) {
    throw new InvalidArgumentError("depth", String(depth), `must be one of ${UPBIT_WS_ORDERBOOK_DEPTHS.join(", ")} levels per side (0 = ${DEFAULT_STREAM_DEPTH})`);
  }
  return depth;
}
