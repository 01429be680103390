import { create } from "@bufbuild/protobuf";
import {
  type GetOrderbooksRequest,
  type GetOrderbooksResponse,
  GetOrderbooksResponseSchema,
  type Orderbook,
} from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { MetaRecorder } from "../response-meta.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { MAX_ORDERBOOK_DEPTH } from "../upstream/upbit-rest-client.js";
import { ORDERBOOK_PATH } from "../upstream/upbit-rest-parsers.js";
import { coversDepth, orderbookDepth, toDepth } from "./orderbook-depth.js";
import { orderbookToProto } from "./proto-conversions.js";
import { type CachedValue, realtimeFirst, type SnapshotSource, storedAs } from "./realtime-first.js";
import { resolveMarkets } from "./requested-markets.js";
import { isFresh, maxStalenessMs } from "./staleness.js";

/** GetOrderbooks: the realtime cache where fresh and deep enough, Upbit for the rest. */
export function createGetOrderbooks(deps: GatewayDeps): (req: GetOrderbooksRequest, ctx: CallContext) => Promise<GetOrderbooksResponse> {
  return async (req, ctx) => {
    const priority = priorityFromProto(req.priority);
    const depth = orderbookDepth(req.depth);
    const meta = new MetaRecorder(priority);
    const codes = await resolveMarkets(deps, { markets: req.markets }, priority, ctx.signal, meta);
    deps.hub.noteUnaryRead("orderbook", codes);
    const source = orderbookSource(deps, priority, depth, maxStalenessMs(priority, req.maxStalenessMs));
    const books = await realtimeFirst(codes, source, ctx.signal, meta, deps.log);
    return create(GetOrderbooksResponseSchema, { orderbooks: books.map((b) => toDepth(b, depth)), meta: meta.init(true) });
  };
}

function orderbookSource(deps: GatewayDeps, priority: Priority, depth: number, maxAgeMs: number): SnapshotSource<Orderbook> {
  return {
    kind: "orderbook",
    endpoint: ORDERBOOK_PATH,
    readLocal: (code) => storedAs(deps.hub.currentValue("orderbook", code)),
    readCache: async (codes, signal) => {
      const res = await deps.store.getRealtime({ orderbookMarkets: [...codes] }, { signal });
      const found = new Map<string, CachedValue<Orderbook>>();
      for (const c of res.orderbooks) if (c.orderbook) found.set(c.orderbook.market, { value: c.orderbook, storedAtMs: Number(c.storedAtMs) });
      return found;
    },
    usable: (cached) => coversDepth(cached.value, depth) && isFresh(cached.storedAtMs, deps.now(), maxAgeMs),
    // Always the full book, whatever depth was asked: the same single call, and the cache then
    // holds whole books that answer requests of any depth (the answer is cut to `depth` after).
    fetch: async (codes, signal) => (await deps.upbit.orderbooks(codes, { count: MAX_ORDERBOOK_DEPTH }, { priority, signal })).map(orderbookToProto),
    writeCache: (books) => deps.store.putRealtime({ orderbooks: [...books] }),
    marketOf: (b) => b.market,
  };
}
