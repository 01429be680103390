/**
 * The per-market order-and-dedupe logic of StreamTrades with made-up trades: snapshot, same-ms
 * trades, out-of-order and duplicate arrival, the merge of a backfill with live trades held
 * meanwhile, gaps where backfill failed or fell short, and reconnects during a recovery.
 */
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GapReason, type Trade, TradeSchema } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { compareTrades, type TradeEvent, TradeSequencer } from "../../../src/gateway/realtime/trade-sequencer.js";

const MARKET = "KRW-BTC";

/** A trade at `ms`, the `n`-th of that ms, with Upbit's id shape (ms × 10000 + n) unless `id` is given. */
function trade(ms: number, n = 0, id?: bigint): Trade {
  return create(TradeSchema, { market: MARKET, tradeTimeMs: BigInt(ms), sequentialId: id ?? BigInt(ms) * 10_000n + BigInt(n), tradePrice: 100 });
}

/** Events as short strings: `S1000.0` snapshot, `T1000.1` trade, `G1000-2001/6` gap. */
function show(events: readonly TradeEvent[]): string[] {
  return events.map((e) => {
    if (e.kind === "gap") return `G${e.startMs}-${e.endMs}/${e.reason}`;
    const n = e.trade.sequentialId % 10_000n;
    return `${e.snapshot ? "S" : "T"}${e.trade.tradeTimeMs}.${n}`;
  });
}

function live(s: TradeSequencer, ...trades: Trade[]): string[] {
  return trades.flatMap((t) => show(s.offerLive(t)));
}

describe("TradeSequencer", () => {
  it("orders by trade time, then sequential id", () => {
    const sorted = [trade(2, 0), trade(1, 1), trade(1, 0), trade(3, 0)].sort(compareTrades);
    expect(sorted.map((t) => t.sequentialId)).toEqual([10_000n, 10_001n, 20_000n, 30_000n]);
  });

  it("sends the first live trade as the snapshot when none is known, then live trades", () => {
    const s = new TradeSequencer(MARKET);
    expect(live(s, trade(1000), trade(1001), trade(1002))).toEqual(["S1000.0", "T1001.0", "T1002.0"]);
    // A later known-latest trade is no snapshot any more.
    expect(show(s.offerSnapshot(trade(1003)))).toEqual([]);
  });

  it("takes the hub's or REST's latest trade as the snapshot and drops what is not after it", () => {
    const s = new TradeSequencer(MARKET);
    expect(show(s.offerSnapshot(trade(1000, 1)))).toEqual(["S1000.1"]);
    expect(live(s, trade(999), trade(1000, 1), trade(1001))).toEqual(["T1001.0"]);
  });

  it("never sends trades ordered before the snapshot, even of its millisecond, from the feed or a backfill", () => {
    const s = new TradeSequencer(MARKET);
    expect(show(s.offerSnapshot(trade(1000, 1)))).toEqual(["S1000.1"]);
    expect(live(s, trade(1000, 0), trade(1000, 2))).toEqual(["T1000.2"]);
    expect(s.beginRecovery()).toBe(1000);
    // The backfill starts at the snapshot's ms and so fetches its older sibling too.
    const outcome = s.completeRecovery([trade(1000, 0), trade(1000, 1), trade(1000, 2), trade(1000, 3), trade(1001, 0)]);
    expect(show(outcome.events)).toEqual(["T1000.3", "T1001.0"]);
  });

  it("delivers every distinct trade of one millisecond once, in whatever order they come", () => {
    const s = new TradeSequencer(MARKET);
    // Upbit only promises ids are unique, not ordered within a ms: a lower id at the same ms is new.
    expect(live(s, trade(1000, 0), trade(1000, 2), trade(1000, 1), trade(1000, 2), trade(1000, 0))).toEqual(["S1000.0", "T1000.2", "T1000.1"]);
    expect(live(s, trade(1001, 0), trade(1000, 3))).toEqual(["T1001.0"]);
  });

  it("drops duplicates and trades older than the last delivered one (already sent or before the snapshot)", () => {
    const s = new TradeSequencer(MARKET);
    expect(live(s, trade(1000), trade(1005), trade(1003), trade(1005), trade(1006))).toEqual(["S1000.0", "T1005.0", "T1006.0"]);
  });

  it("has nothing to recover before its snapshot went out", () => {
    const s = new TradeSequencer(MARKET);
    expect(s.beginRecovery()).toBeUndefined();
    expect(live(s, trade(1000))).toEqual(["S1000.0"]);
  });

  it("holds live trades during a recovery and merges them with the backfill in order, without duplicates", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(1000, 0), trade(1000, 1));
    expect(s.beginRecovery()).toBe(1000);
    // The upstream is back: its snapshot (a trade lost in the drop) and live trades, one out of order.
    expect(live(s, trade(1004), trade(1006), trade(1005), trade(1006))).toEqual([]);
    expect(s.heldCount).toBe(3);
    // The backfill overlaps both what was sent (1000.*) and what is held (1004, 1005), newest first.
    const backfill = [trade(1005), trade(1004), trade(1002, 1), trade(1002, 0), trade(1001), trade(1000, 2), trade(1000, 1), trade(1000, 0)];
    const outcome = s.completeRecovery(backfill);
    expect(show(outcome.events)).toEqual(["T1000.2", "T1001.0", "T1002.0", "T1002.1", "T1004.0", "T1005.0", "T1006.0"]);
    expect(outcome.againFromMs).toBeUndefined();
    expect(s.heldCount).toBe(0);
    expect(live(s, trade(1006), trade(1007))).toEqual(["T1007.0"]);
  });

  it("turns a failed backfill into a gap from the last sent trade to the first held one, then the held trades", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(1000));
    s.beginRecovery();
    live(s, trade(1010, 1), trade(1010, 0), trade(1011));
    const outcome = s.failRecovery(GapReason.UPSTREAM_UNAVAILABLE, 1_009);
    expect(show(outcome.events)).toEqual([`G1000-1011/${GapReason.UPSTREAM_UNAVAILABLE}`, "T1010.0", "T1010.1", "T1011.0"]);
    expect(live(s, trade(1012))).toEqual(["T1012.0"]);
  });

  it("ends a failed recovery's gap at the reconnect time when no live trade came yet", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(1000));
    s.beginRecovery();
    expect(show(s.failRecovery(GapReason.UPSTREAM_UNAVAILABLE, 5_000).events)).toEqual([`G1000-5000/${GapReason.UPSTREAM_UNAVAILABLE}`]);
  });

  it("reports the part a backfill could not fetch as a gap before the trades it did fetch", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(1000));
    s.beginRecovery();
    const outcome = s.completeRecovery([trade(1030), trade(1020)], 1_021);
    expect(show(outcome.events)).toEqual([`G1000-1021/${GapReason.STREAM_INTERRUPTED}`, "T1020.0", "T1030.0"]);
  });

  it("recovers again when another reconnect came while a backfill ran", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(1000));
    expect(s.beginRecovery()).toBe(1000);
    live(s, trade(1003));
    // Second drop while the first backfill is in flight.
    expect(s.beginRecovery()).toBeUndefined();
    const first = s.completeRecovery([trade(1001), trade(1002)]);
    expect(show(first.events)).toEqual(["T1001.0", "T1002.0", "T1003.0"]);
    expect(first.againFromMs).toBe(1003);
    expect(s.recovering).toBe(true);
    expect(live(s, trade(1008))).toEqual([]);
    const second = s.completeRecovery([trade(1003), trade(1005)]);
    expect(show(second.events)).toEqual(["T1005.0", "T1008.0"]);
    expect(second.againFromMs).toBeUndefined();
    expect(s.recovering).toBe(false);
  });

  it("handles ids that do not follow time within a millisecond (sorted by time, then id)", () => {
    const s = new TradeSequencer(MARKET);
    live(s, trade(999, 0, 1n), trade(1000, 0, 7n));
    s.beginRecovery();
    const outcome = s.completeRecovery([trade(1001, 0, 3n), trade(1000, 0, 9n), trade(1000, 0, 7n), trade(1000, 0, 5n)]);
    expect(outcome.events.map((e) => (e.kind === "trade" ? e.trade.sequentialId : -1n))).toEqual([5n, 9n, 3n]);
  });
});
