import { create } from "@bufbuild/protobuf";
import { type GetTickersRequest, type GetTickersResponse, GetTickersResponseSchema, type Ticker } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CallContext } from "../../shared/grpc/handlers.js";
import type { GatewayDeps } from "../gateway-deps.js";
import { priorityFromProto } from "../request-priority.js";
import { MetaRecorder } from "../response-meta.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { TICKER_PATH } from "../upstream/upbit-rest-parsers.js";
import { tickerToProto } from "./proto-conversions.js";
import { type CachedValue, realtimeFirst, type SnapshotSource, storedAs } from "./realtime-first.js";
import { resolveMarkets } from "./requested-markets.js";
import { isFresh, maxStalenessMs } from "./staleness.js";

/** GetTickers: the realtime cache where fresh enough for the request, Upbit for the rest. */
export function createGetTickers(deps: GatewayDeps): (req: GetTickersRequest, ctx: CallContext) => Promise<GetTickersResponse> {
  return async (req, ctx) => {
    const priority = priorityFromProto(req.priority);
    const meta = new MetaRecorder(priority);
    const codes = await resolveMarkets(deps, { markets: req.markets, quoteCurrencies: req.quoteCurrencies }, priority, ctx.signal, meta);
    deps.hub.noteUnaryRead("ticker", codes);
    const tickers = await realtimeFirst(codes, tickerSource(deps, priority, maxStalenessMs(priority, req.maxStalenessMs)), ctx.signal, meta, deps.log);
    return create(GetTickersResponseSchema, { tickers, meta: meta.init(true) });
  };
}

function tickerSource(deps: GatewayDeps, priority: Priority, maxAgeMs: number): SnapshotSource<Ticker> {
  return {
    kind: "ticker",
    endpoint: TICKER_PATH,
    readLocal: (code) => storedAs(deps.hub.currentValue("ticker", code)),
    readCache: async (codes, signal) => {
      const res = await deps.store.getRealtime({ tickerMarkets: [...codes] }, { signal });
      const found = new Map<string, CachedValue<Ticker>>();
      for (const c of res.tickers) if (c.ticker) found.set(c.ticker.market, { value: c.ticker, storedAtMs: Number(c.storedAtMs) });
      return found;
    },
    usable: (cached) => isFresh(cached.storedAtMs, deps.now(), maxAgeMs),
    fetch: async (codes, signal) => (await deps.upbit.tickers(codes, { priority, signal })).map(tickerToProto),
    writeCache: (tickers) => deps.store.putRealtime({ tickers: [...tickers] }),
    marketOf: (t) => t.market,
  };
}
