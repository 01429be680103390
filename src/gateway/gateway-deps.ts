import type { Logger } from "../shared/logger.js";
import type { CandleCoordinator } from "./candles/candle-coordinator.js";
import type { GatewayConfig } from "./config.js";
import type { MarketCatalog } from "./market-catalog.js";
import type { RealtimeHub } from "./realtime/realtime-hub.js";
import type { LowPriorityGate } from "./scheduler/low-priority-gate.js";
import type { StoreClient } from "./store-client.js";
import type { UpbitRestClient } from "./upstream/upbit-rest-client.js";

/** What the request handlers work with; built once per gateway in `gateway.ts`. */
export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly upbit: UpbitRestClient;
  readonly store: StoreClient;
  readonly markets: MarketCatalog;
  /** Plans, fetches and assembles candles; one per gateway, so GetCandles and candle streams share its single flight. */
  readonly candles: CandleCoordinator;
  /** The PROTECTED path LOW upstream calls pass first. */
  readonly lowGate: LowPriorityGate;
  /** The shared upstream WebSocket: live streams, the realtime cache feed, smart routing. */
  readonly hub: RealtimeHub;
  readonly now: () => number;
  readonly log: Logger;
}
