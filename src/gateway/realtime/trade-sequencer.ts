/**
 * The order-and-dedupe state of one market of one trade stream. Pure logic, no I/O: the stream
 * feeds it live trades, the snapshot and the results of backfills, and sends what it returns.
 *
 * Invariant: every trade before the last delivered trade time was delivered, preceded the
 * snapshot, or lies inside a gap notice already returned. So a trade older than the last
 * delivered time is a duplicate (or pre-snapshot) and is dropped, and at the last delivered time
 * only the ids delivered at that millisecond need remembering: Upbit's `sequential_id` is unique
 * but its docs do not promise it orders trades within a millisecond, so a new id at that same
 * millisecond is a new trade, never a "late" one. Except at the snapshot's millisecond: trades
 * ordered before the snapshot (lower id) precede the stream and are never sent, though a backfill
 * starting at that millisecond fetches them.
 */
import { GapReason, type Trade } from "../../gen/backbone/marketdata/v1/market_data_pb.js";

export type TradeEvent =
  | { readonly kind: "trade"; readonly trade: Trade; readonly snapshot: boolean }
  | { readonly kind: "gap"; readonly market: string; readonly startMs: number; readonly endMs: number; readonly reason: GapReason };

/** Upbit's order of trades in a market: by trade time, then by sequential id. */
export function compareTrades(a: Trade, b: Trade): number {
  if (a.tradeTimeMs !== b.tradeTimeMs) return a.tradeTimeMs < b.tradeTimeMs ? -1 : 1;
  if (a.sequentialId === b.sequentialId) return 0;
  return a.sequentialId < b.sequentialId ? -1 : 1;
}

/** What a finished recovery hands back. */
export interface RecoveryOutcome {
  /** To send, in order: an optional gap notice, then trades ascending. */
  events: TradeEvent[];
  /**
   * Another reconnect came while this recovery ran: recover again from this time (the last
   * delivered trade's), holding live trades meanwhile. Undefined when live again.
   */
  againFromMs: number | undefined;
}

type State = "awaiting-snapshot" | "live" | "recovering";

export class TradeSequencer {
  private state: State = "awaiting-snapshot";
  private lastTimeMs: bigint | undefined;
  /** Ids delivered at `lastTimeMs`. A few at most: trades of one market within one ms. */
  private readonly idsAtLastMs = new Set<bigint>();
  /** The snapshot: where the stream starts. */
  private snapshot: Trade | undefined;
  /** Live trades that came during a recovery, to merge after the backfill. */
  private held: Trade[] = [];
  private readonly heldIds = new Set<bigint>();
  private recoverAgain = false;

  constructor(readonly market: string) {}

  /** Live trades held while a backfill runs (they count against the subscriber's bound). */
  get heldCount(): number {
    return this.held.length;
  }

  get awaitingSnapshot(): boolean {
    return this.state === "awaiting-snapshot";
  }

  get recovering(): boolean {
    return this.state === "recovering";
  }

  /** A trade of the live feed. The first one becomes the snapshot if none was sent yet. */
  offerLive(trade: Trade): TradeEvent[] {
    switch (this.state) {
      case "awaiting-snapshot":
        return this.deliverSnapshot(trade);
      case "recovering":
        if (this.isNew(trade) && !this.heldIds.has(trade.sequentialId)) {
          this.held.push(trade);
          this.heldIds.add(trade.sequentialId);
        }
        return [];
      case "live":
        return this.accept(trade) ? [{ kind: "trade", trade, snapshot: false }] : [];
    }
  }

  /** The latest trade as known elsewhere (the hub, REST): sent as the snapshot if none was yet. */
  offerSnapshot(trade: Trade): TradeEvent[] {
    return this.state === "awaiting-snapshot" ? this.deliverSnapshot(trade) : [];
  }

  /**
   * The upstream reconnected, so trades after the last delivered one may be lost. Returns the
   * time to backfill from (inclusive: other trades of that ms may be missing), or undefined when
   * there is nothing to recover (no snapshot sent yet: the first trade to come will be it) or a
   * recovery already runs (it is then repeated once it ends).
   */
  beginRecovery(): number | undefined {
    if (this.state === "awaiting-snapshot") return undefined;
    if (this.state === "recovering") {
      this.recoverAgain = true;
      return undefined;
    }
    this.state = "recovering";
    return Number(this.lastTimeMs);
  }

  /**
   * The backfill answered: `backfilled` (any order, duplicates allowed) are the trades from the
   * recovery start on. `lostBeforeMs`, when set, says trades from the recovery start up to it
   * (exclusive) could not all be fetched: that part becomes a gap notice.
   */
  completeRecovery(backfilled: readonly Trade[], lostBeforeMs?: number, lostReason = GapReason.STREAM_INTERRUPTED): RecoveryOutcome {
    if (this.state !== "recovering") return { events: [], againFromMs: undefined };
    const events: TradeEvent[] = [];
    const startMs = Number(this.lastTimeMs);
    if (lostBeforeMs !== undefined && lostBeforeMs > startMs) {
      events.push({ kind: "gap", market: this.market, startMs, endMs: lostBeforeMs, reason: lostReason });
    }
    this.flush([...backfilled, ...this.held], events);
    return this.endRecovery(events);
  }

  /**
   * The backfill failed: a gap notice from the last delivered trade to the first held live trade
   * (both ms included, since same-ms neighbours of either may be missing), or to
   * `fallbackEndMs` when no live trade came yet; then the held trades.
   */
  failRecovery(reason: GapReason, fallbackEndMs: number): RecoveryOutcome {
    if (this.state !== "recovering") return { events: [], againFromMs: undefined };
    const startMs = Number(this.lastTimeMs);
    const held = [...this.held].sort(compareTrades);
    const endMs = held.length > 0 ? Number(held[0]!.tradeTimeMs) + 1 : Math.max(fallbackEndMs, startMs + 1);
    const events: TradeEvent[] = [{ kind: "gap", market: this.market, startMs, endMs, reason }];
    this.flush(held, events);
    return this.endRecovery(events);
  }

  private endRecovery(events: TradeEvent[]): RecoveryOutcome {
    this.held = [];
    this.heldIds.clear();
    if (this.recoverAgain) {
      this.recoverAgain = false;
      return { events, againFromMs: Number(this.lastTimeMs) };
    }
    this.state = "live";
    return { events, againFromMs: undefined };
  }

  /** Sorts, dedupes and appends the new ones to `events`. */
  private flush(trades: Trade[], events: TradeEvent[]): void {
    trades.sort(compareTrades);
    for (const trade of trades) {
      if (this.accept(trade)) events.push({ kind: "trade", trade, snapshot: false });
    }
  }

  private deliverSnapshot(trade: Trade): TradeEvent[] {
    this.state = "live";
    this.snapshot = trade;
    this.accept(trade);
    return [{ kind: "trade", trade, snapshot: true }];
  }

  private isNew(trade: Trade): boolean {
    if (this.lastTimeMs === undefined || trade.tradeTimeMs > this.lastTimeMs) return true;
    if (trade.tradeTimeMs !== this.lastTimeMs || this.idsAtLastMs.has(trade.sequentialId)) return false;
    return this.snapshot === undefined || compareTrades(trade, this.snapshot) > 0;
  }

  /** Records `trade` as delivered if it is new. */
  private accept(trade: Trade): boolean {
    if (!this.isNew(trade)) return false;
    if (this.lastTimeMs === undefined || trade.tradeTimeMs > this.lastTimeMs) {
      this.lastTimeMs = trade.tradeTimeMs;
      this.idsAtLastMs.clear();
    }
    this.idsAtLastMs.add(trade.sequentialId);
    return true;
  }
}
