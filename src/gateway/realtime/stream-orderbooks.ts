import {
  type Orderbook,
  type StreamOrderbooksRequest,
  type StreamOrderbooksResponse,
  StreamOrderbooksResponseSchema,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext, Send } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { toDepth } from "../snapshots/orderbook-depth.js";
import { runConflatedStream } from "./conflated-stream.js";
import { sharedMessages } from "./shared-messages.js";
import { resolveStreamMarkets, streamOrderbookDepth } from "./stream-request.js";

/** Keyed by the cut book, so subscribers of one depth share messages. */
const bookMessage = sharedMessages(StreamOrderbooksResponseSchema, (orderbook: Orderbook, snapshot) => ({ orderbook, snapshot }));

/** StreamOrderbooks: the latest book per market, then live books, cut to `depth`, conflated per market. */
export function createStreamOrderbooks(
  deps: GatewayDeps,
): (req: StreamOrderbooksRequest, send: Send<StreamOrderbooksResponse>, ctx: CallContext) => Promise<void> {
  return async (req, send, ctx) => {
    const priority = priorityFromProto(req.priority);
    const depth = streamOrderbookDepth(req.depth);
    const markets = await resolveStreamMarkets(deps, req.markets, priority, ctx.signal);
    await runConflatedStream({
      hub: deps.hub,
      type: "orderbook",
      markets,
      priority,
      minIntervalMs: req.minIntervalMs,
      signal: ctx.signal,
      send,
      toMessage: (book, snapshot) => bookMessage(cutToDepth(book, depth), snapshot),
    });
  };
}

/** Cut books, shared by every subscriber of the same depth: one cut per book and depth, not per client. */
const cuts = new WeakMap<Orderbook, Map<number, Orderbook>>();

function cutToDepth(book: Orderbook, depth: number): Orderbook {
  if (book.units.length <= depth) return book;
  let byDepth = cuts.get(book);
  if (byDepth === undefined) cuts.set(book, (byDepth = new Map()));
  let cut = byDepth.get(depth);
  if (cut === undefined) byDepth.set(depth, (cut = toDepth(book, depth)));
  return cut;
}
