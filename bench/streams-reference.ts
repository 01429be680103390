/**
 * The streams bench's reference receiver: a plain WebSocket client (the gateway's own Upbit
 * client, so parsing costs the same as the gateway's) connected straight to the simulator and
 * subscribed to the same tickers and books. The simulator sends every connection's frames in the
 * same synchronous feed tick, so the moment this client receives an upstream message is the
 * best send-side stamp there is: the gateway's subscribers' receive time minus it is what the
 * gateway adds. It also keeps the brief's plain measure, receive − the message's `timestamp`.
 */
import { createUpbitWebSocketClient, type UpbitWebSocketClient } from "../src/gateway/upstream/upbit-websocket-client.js";
import { monotonicMs, wallMs } from "./streams-grpc-reader.js";
import { type HistogramData, LatencyHistogram } from "./streams-latency.js";
import { type StreamKind, updateKey } from "./streams-proto-scan.js";

/** Stamps older than this are dropped: no window is longer. */
const KEEP_MS = 120_000;
const SNAPSHOT_TIMEOUT_MS = 30_000;

interface KindState {
  /** Upstream message key → monotonic receive time. */
  stamps: Map<string, number>;
  windowUpdates: number;
  sinceStamp: LatencyHistogram;
}

export interface ReferenceWindow {
  /** Live upstream messages received during the window. */
  updates: number;
  windowMs: number;
  /** Receive (wall clock) − the message's own `timestamp`. */
  sinceStamp: HistogramData;
}

export class ReferenceReceiver {
  private readonly client: UpbitWebSocketClient;
  private readonly kinds: Record<StreamKind, KindState> = {
    ticker: { stamps: new Map(), windowUpdates: 0, sinceStamp: new LatencyHistogram() },
    orderbook: { stamps: new Map(), windowUpdates: 0, sinceStamp: new LatencyHistogram() },
  };
  private windowStart = 0;
  private readonly snapshots = new Set<string>();
  private onSnapshot: (() => void) | undefined;

  constructor(url: string) {
    this.client = createUpbitWebSocketClient({ url });
    this.client.on("ticker", (t) => this.receive("ticker", t.market, t.tradeTimestampMs, t.timestampMs, t.streamType === "SNAPSHOT"));
    this.client.on("orderbook", (b) => {
      if (b.level === 0) this.receive("orderbook", b.market, b.timestampMs, b.timestampMs, b.streamType === "SNAPSHOT");
    });
  }

  /** Subscribes to tickers and full books of `markets`; resolves once every snapshot arrived. */
  async start(markets: readonly string[]): Promise<void> {
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the reference receiver got ${this.snapshots.size} of ${2 * markets.length} snapshots`)), SNAPSHOT_TIMEOUT_MS);
      this.onSnapshot = () => {
        if (this.snapshots.size < 2 * markets.length) return;
        clearTimeout(timer);
        this.onSnapshot = undefined;
        resolve();
      };
    });
    this.client.setSubscriptions([
      { type: "ticker", codes: markets },
      { type: "orderbook", codes: markets },
    ]);
    await all;
  }

  startWindow(): void {
    this.windowStart = monotonicMs();
    for (const k of Object.values(this.kinds)) {
      k.windowUpdates = 0;
      k.sinceStamp = new LatencyHistogram();
    }
  }

  endWindow(kind: StreamKind): ReferenceWindow {
    const k = this.kinds[kind];
    return { updates: k.windowUpdates, windowMs: monotonicMs() - this.windowStart, sinceStamp: k.sinceStamp.data() };
  }

  /** Every stamp of `kind` kept, by message key. */
  stamps(kind: StreamKind): Record<string, number> {
    const cutoff = monotonicMs() - KEEP_MS;
    const out: Record<string, number> = {};
    for (const [key, at] of this.kinds[kind].stamps) {
      if (at < cutoff) this.kinds[kind].stamps.delete(key);
      else out[key] = at;
    }
    return out;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private receive(kind: StreamKind, market: string, keyMs: number, stampMs: number, snapshot: boolean): void {
    const mono = monotonicMs();
    const wall = wallMs();
    if (snapshot) {
      this.snapshots.add(`${kind}|${market}`);
      this.onSnapshot?.();
      return;
    }
    const k = this.kinds[kind];
    const key = updateKey(market, keyMs);
    // The first arrival is the send-side stamp (a resent duplicate would only be later).
    if (!k.stamps.has(key)) k.stamps.set(key, mono);
    k.windowUpdates++;
    k.sinceStamp.record(wall - stampMs);
  }
}
