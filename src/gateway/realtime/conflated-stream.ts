/**
 * The body of every conflating stream (tickers, order books): listen to the hub, queue the
 * latest value per market, and send from that queue as fast as the client reads. The first
 * message per market is the hub's latest value when it has one, else the first that arrives
 * (Upbit sends a snapshot on subscribe), flagged `snapshot`.
 */
import { UnavailableError } from "../../shared/errors.js";
import type { Priority } from "../upstream/rate-limiter.js";
import { ConflatingQueue } from "./conflating-queue.js";
import type { RealtimeHub } from "./realtime-hub.js";
import type { RealtimeType, RealtimeValue } from "./realtime-types.js";
import { untilAborted } from "../../shared/until-aborted.js";

export interface ConflatedStreamSpec<T extends RealtimeType, M> {
  hub: RealtimeHub;
  type: T;
  /** Distinct, validated market codes. */
  markets: readonly string[];
  priority: Priority;
  /** Least ms between two messages of one market; 0 = every update. */
  minIntervalMs: number;
  /** The client's call: aborted on cancel or server shutdown. */
  signal: AbortSignal;
  send(message: M): Promise<void>;
  toMessage(value: RealtimeValue<T>, snapshot: boolean): M;
}

/**
 * Runs until the client cancels (resolves) or the gateway shuts down (rejects UNAVAILABLE, so
 * the client knows to subscribe again rather than take the end for a final answer).
 */
export async function runConflatedStream<T extends RealtimeType, M>(spec: ConflatedStreamSpec<T, M>): Promise<void> {
  const { hub, type, markets } = spec;
  const queue = new ConflatingQueue<RealtimeValue<T>>(spec.minIntervalMs, hub.now);
  let sent = 0;
  let awaitingTransport = false;
  const subscription = hub.subscribe({
    type,
    markets,
    priority: spec.priority,
    onUpdate: (u) => queue.offer(u.market, u.value),
    state: () => {
      const q = queue.stats();
      return { pending: q.pending, conflated: q.conflated, sent, awaitingTransport };
    },
  });
  // Same synchronous step as subscribe: no update can slip in between.
  for (const market of markets) {
    const latest = hub.latest(type, market);
    if (latest !== undefined) queue.offer(market, latest.value);
  }
  const stop = AbortSignal.any([spec.signal, hub.closed]);
  try {
    for (;;) {
      const item = await queue.take(stop);
      awaitingTransport = true;
      await untilAborted(spec.send(spec.toMessage(item.value, item.snapshot)), stop);
      awaitingTransport = false;
      sent++;
    }
  } catch (e) {
    if (spec.signal.aborted) return;
    if (hub.closed.aborted) throw new UnavailableError("the gateway is shutting down; subscribe again");
    throw e;
  } finally {
    subscription.close();
  }
}
