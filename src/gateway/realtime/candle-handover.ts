/**
 * One candle stream's handover from history to live: which topic events reach the client, and
 * which closed buckets must be fetched because neither the backfill nor the live feed has them.
 * Pure; stream-candles.ts performs the actions.
 *
 * `frontier` is the first bucket whose closed candle the client is still owed (the backfill's
 * exclusive end, or the forming bucket when the stream went live without one). Closed runs end
 * before it are what the client has already: dropped (no duplicate). A run or the topic's
 * knowledge starting after it leaves buckets nobody sent: fetched first (no gap). Corrections
 * after an upstream drop are passed on for every bucket of the stream, sent before or not.
 */
import type { GapReason } from "../../gen/backbone/marketdata/v1/market_data_pb.js";
import type { CandleInit } from "../candles/candle-coordinator.js";
import type { CandleTopicEvent } from "./candle-topic.js";

export type HandoverAction =
  | { readonly kind: "send"; readonly candle: CandleInit }
  /** Closed buckets `[start, end)` to read the GetCandles way and send. */
  | { readonly kind: "fetch"; readonly start: number; readonly end: number }
  | { readonly kind: "gap"; readonly start: number; readonly end: number; readonly reason: GapReason };

export class CandleHandover {
  private owedFrom: number;

  /**
   * @param frontier first bucket whose closed candle the client is owed
   * @param streamStart first bucket of the stream (corrections before it are not the client's business)
   */
  constructor(
    frontier: number,
    private readonly streamStart: number,
  ) {
    this.owedFrom = frontier;
  }

  get frontier(): number {
    return this.owedFrom;
  }

  /** What to do with `event`; `knownFrom` is the topic's first bucket of closed runs, if known. */
  plan(event: CandleTopicEvent, knownFrom: number | undefined): HandoverAction[] {
    const out: HandoverAction[] = [];
    if (knownFrom !== undefined) this.fetchUpTo(knownFrom, out);
    if (event.kind === "forming") {
      if (Number(event.candle.timeMs) >= this.owedFrom) out.push({ kind: "send", candle: event.candle });
      return out;
    }
    if (!event.correction) this.fetchUpTo(event.start, out);
    const from = event.correction ? this.streamStart : this.owedFrom;
    const sends: HandoverAction[] = [];
    for (const candle of event.candles) {
      const t = Number(candle.timeMs);
      if (t >= from && t < event.end) sends.push({ kind: "send", candle });
    }
    for (const g of event.gaps) {
      const start = Math.max(g.start, from);
      const end = Math.min(g.end, event.end);
      if (start < end) sends.push({ kind: "gap", start, end, reason: g.reason });
    }
    // In time order: a gap notice where its buckets would have been.
    sends.sort((a, b) => timeOf(a) - timeOf(b));
    out.push(...sends);
    this.owedFrom = Math.max(this.owedFrom, event.end);
    return out;
  }

  /** Buckets from the frontier up to `start` that nobody will send: fetch them. */
  private fetchUpTo(start: number, out: HandoverAction[]): void {
    if (start <= this.owedFrom) return;
    out.push({ kind: "fetch", start: this.owedFrom, end: start });
    this.owedFrom = start;
  }
}

function timeOf(a: HandoverAction): number {
  return a.kind === "send" ? Number(a.candle.timeMs) : a.start;
}
