/**
 * The live candle topics of one hub: a topic per (market, timeframe) exists while at least one
 * candle stream listens to it, so its live writer and REST repairs run once however many clients
 * watch. Kept per hub (the gateway has one), reachable from the deps handlers get.
 */
import type { Timeframe } from "../../shared/timeframe.js";
import type { GatewayDeps } from "../gateway-deps.js";
import type { Priority } from "../upstream/rate-limiter.js";
import type { LiveWrite } from "./candle-live-writer.js";
import { CandleRangeReader } from "./candle-range-reader.js";
import { CandleTopic, type CandleTopicListener } from "./candle-topic.js";
import type { RealtimeHub } from "./realtime-hub.js";

export interface CandleTopicLease {
  /** First bucket the topic's closed runs start from; undefined until its first update. */
  readonly knownFrom: number | undefined;
  /** Stops listening; the topic closes with its last listener. Idempotent. */
  close(): void;
}

export interface CandleTopicsTuning {
  /** See candle-settler.ts. */
  settleMs?: number;
  /** See candle-live-writer.ts. */
  holdMs?: number;
}

export class CandleTopics {
  readonly reader: CandleRangeReader;
  private readonly topics = new Map<string, CandleTopic>();
  private readonly written = new Set<(write: LiveWrite) => void>();

  constructor(
    private readonly deps: Pick<GatewayDeps, "hub" | "store" | "log" | "candles" | "now">,
    private readonly tuning: CandleTopicsTuning = {},
  ) {
    this.reader = new CandleRangeReader(deps.candles, deps.log);
  }

  /** Listens to the live candles of (market, timeframe), starting the topic if nobody did. */
  join(market: string, timeframe: Timeframe, priority: Priority, listener: CandleTopicListener): CandleTopicLease {
    const key = `${timeframe}|${market}`;
    let topic = this.topics.get(key);
    if (topic === undefined) {
      topic = new CandleTopic(
        {
          hub: this.deps.hub,
          market,
          timeframe,
          reader: this.reader,
          store: this.deps.store,
          log: this.deps.log,
          onLiveWritten: (w) => this.written.forEach((l) => l(w)),
          ...this.tuning,
        },
        priority,
      );
      this.topics.set(key, topic);
    }
    const joined = topic;
    const remove = joined.listen(listener, priority);
    let open = true;
    return {
      get knownFrom() {
        return joined.knownFrom;
      },
      close: () => {
        if (!open) return;
        open = false;
        remove();
        if (joined.listenerCount === 0 && this.topics.get(key) === joined) {
          this.topics.delete(key);
          void joined.close();
        }
      },
    };
  }

  /** Listens to what live writers put into the store (tests, diagnostics); returns the remover. */
  onLiveWritten(listener: (write: LiveWrite) => void): () => void {
    this.written.add(listener);
    return () => this.written.delete(listener);
  }
}

const byHub = new WeakMap<RealtimeHub, CandleTopics>();

/** The hub's candle topics, made on first use. */
export function candleTopicsFor(deps: ConstructorParameters<typeof CandleTopics>[0], tuning?: CandleTopicsTuning): CandleTopics {
  let topics = byHub.get(deps.hub);
  if (topics === undefined) byHub.set(deps.hub, (topics = new CandleTopics(deps, tuning)));
  return topics;
}
