/**
 * Which (type, market) topics the one upstream WebSocket must carry, by demand: listeners
 * (client streams) and unary-read auto-subscriptions. A topic stays for a grace period after its
 * last listener left, so a client that reconnects (or the next one) finds it warm and the
 * subscription set does not flap. Every change is merged in a microtask into one whole-set
 * `apply`, so a burst of a thousand subscriptions is one call to the WebSocket client (which in
 * turn keeps within Upbit's 5 messages per second).
 */
import type { UpbitWebSocketSubscription } from "../upstream/upbit-websocket-client.js";
import { type RealtimeType, topicKey } from "./realtime-types.js";

interface TopicDemand {
  readonly type: RealtimeType;
  readonly market: string;
  listeners: number;
  auto: boolean;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
}

export interface UpstreamTopicsOptions {
  /** Receives the whole wanted set after every change (merged per microtask). */
  apply(subscriptions: UpbitWebSocketSubscription[]): void;
  /** How long a topic nobody wants any more stays subscribed, ms. */
  graceMs: number;
  /** Called when a topic left the set, so its cached state can go too. */
  onDropped(type: RealtimeType, market: string): void;
}

export interface UpstreamTopicCounts {
  /** Topics in the upstream set. */
  topics: number;
  /** Topics kept only by unary reads. */
  autoOnly: number;
  /** Topics nobody wants, waiting out their grace period. */
  inGrace: number;
}

export class UpstreamTopics {
  private readonly topics = new Map<string, TopicDemand>();
  private applyQueued = false;
  private closed = false;
  private lastApplied: UpbitWebSocketSubscription[] = [];

  constructor(private readonly options: UpstreamTopicsOptions) {}

  has(type: RealtimeType, market: string): boolean {
    return this.topics.has(topicKey(type, market));
  }

  /** A listener wants the topic. */
  retain(type: RealtimeType, market: string): void {
    const topic = this.demand(type, market);
    topic.listeners++;
    this.cancelGrace(topic);
  }

  /** A listener left the topic. */
  release(type: RealtimeType, market: string): void {
    const topic = this.topics.get(topicKey(type, market));
    if (topic === undefined || topic.listeners === 0) return;
    topic.listeners--;
    this.startGraceIfUnwanted(topic);
  }

  /** Unary reads want (or stopped wanting) the topic. */
  setAuto(type: RealtimeType, market: string, wanted: boolean): void {
    if (wanted) {
      const topic = this.demand(type, market);
      topic.auto = true;
      this.cancelGrace(topic);
      return;
    }
    const topic = this.topics.get(topicKey(type, market));
    if (topic === undefined || !topic.auto) return;
    topic.auto = false;
    this.startGraceIfUnwanted(topic);
  }

  isAuto(type: RealtimeType, market: string): boolean {
    return this.topics.get(topicKey(type, market))?.auto ?? false;
  }

  /** Auto-subscribed topics, for keeping their cache entries warm. */
  *autoTopics(): Iterable<{ type: RealtimeType; market: string }> {
    for (const t of this.topics.values()) if (t.auto) yield { type: t.type, market: t.market };
  }

  counts(): UpstreamTopicCounts {
    let autoOnly = 0;
    let inGrace = 0;
    for (const t of this.topics.values()) {
      if (t.listeners === 0 && t.auto) autoOnly++;
      if (t.graceTimer !== undefined) inGrace++;
    }
    return { topics: this.topics.size, autoOnly, inGrace };
  }

  /** The set last handed to `apply`. */
  applied(): UpbitWebSocketSubscription[] {
    return this.lastApplied;
  }

  /** The wanted set: one entry per type, codes sorted; order books at Upbit's full depth. */
  subscriptions(): UpbitWebSocketSubscription[] {
    const byType = new Map<RealtimeType, string[]>();
    for (const t of this.topics.values()) {
      const codes = byType.get(t.type);
      if (codes === undefined) byType.set(t.type, [t.market]);
      else codes.push(t.market);
    }
    return [...byType.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([type, codes]) => ({ type, codes: codes.sort() }));
  }

  /** Cancels the grace timers; nothing is applied any more. */
  close(): void {
    this.closed = true;
    for (const t of this.topics.values()) this.cancelGrace(t);
    this.topics.clear();
  }

  private demand(type: RealtimeType, market: string): TopicDemand {
    const key = topicKey(type, market);
    let topic = this.topics.get(key);
    if (topic === undefined) {
      topic = { type, market, listeners: 0, auto: false, graceTimer: undefined };
      this.topics.set(key, topic);
      this.scheduleApply();
    }
    return topic;
  }

  private cancelGrace(topic: TopicDemand): void {
    if (topic.graceTimer === undefined) return;
    clearTimeout(topic.graceTimer);
    topic.graceTimer = undefined;
  }

  private startGraceIfUnwanted(topic: TopicDemand): void {
    if (topic.listeners > 0 || topic.auto || topic.graceTimer !== undefined || this.closed) return;
    topic.graceTimer = setTimeout(() => {
      topic.graceTimer = undefined;
      if (topic.listeners > 0 || topic.auto) return;
      this.topics.delete(topicKey(topic.type, topic.market));
      this.options.onDropped(topic.type, topic.market);
      this.scheduleApply();
    }, this.options.graceMs);
    // A pending unsubscription must not keep the process alive.
    topic.graceTimer.unref?.();
  }

  private scheduleApply(): void {
    if (this.applyQueued || this.closed) return;
    this.applyQueued = true;
    queueMicrotask(() => {
      this.applyQueued = false;
      if (this.closed) return;
      this.lastApplied = this.subscriptions();
      this.options.apply(this.lastApplied);
    });
  }
}
