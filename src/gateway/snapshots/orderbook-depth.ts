import { create } from "@bufbuild/protobuf";
import { type Orderbook, OrderbookSchema } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import { InvalidArgumentError } from "../../shared/errors.js";
import { MAX_ORDERBOOK_DEPTH } from "../upstream/upbit-rest-client.js";

/** Sizes carry at most 8 decimals (Upbit's spelling); sums are rounded there to drop float noise. */
const SIZE_DECIMALS = 8;

/** Levels per side a request asks for: 0 = 30 (Upbit's default), 1..30, anything else refused. */
export function orderbookDepth(depth: number, field = "depth"): number {
  if (depth === 0) return MAX_ORDERBOOK_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_ORDERBOOK_DEPTH) {
    throw new InvalidArgumentError(field, String(depth), `must be 1 to ${MAX_ORDERBOOK_DEPTH} levels per side (0 = ${MAX_ORDERBOOK_DEPTH})`);
  }
  return depth;
}

/**
 * Whether a cached book can answer a request for `depth` levels: native tick (level 0, the only
 * kind GetOrderbooks serves) and at least `depth` units. A cached book with fewer units may be a
 * thin market or a book cut shorter by whoever stored it; the two look alike, so it goes upstream.
 */
export function coversDepth(book: Orderbook, depth: number): boolean {
  return book.level === 0 && book.units.length >= depth;
}

/** The best `depth` levels, with the totals over those levels (as Upbit defines them). */
export function toDepth(book: Orderbook, depth: number): Orderbook {
  if (book.units.length <= depth) return book;
  const units = book.units.slice(0, depth);
  const sum = (pick: (u: Orderbook["units"][number]) => number) => Number(units.reduce((s, u) => s + pick(u), 0).toFixed(SIZE_DECIMALS));
  return create(OrderbookSchema, {
    market: book.market,
    timestampMs: book.timestampMs,
    totalAskSize: sum((u) => u.askSize),
    totalBidSize: sum((u) => u.bidSize),
    units,
    level: book.level,
  });
}
