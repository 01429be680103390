import type { CandleBatch, Gap, ResponseMeta } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { GapReason } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { count } from "./human-figures.js";
import { isoTime } from "./time-arg.js";

/** Where a bulk fetch stands after a batch: what the progress reporter draws. */
export interface FetchProgress {
  /** The market of the latest batch. */
  readonly market: string;
  readonly candles: number;
  readonly bucketsDone: number;
  readonly bucketsTotal: number;
  readonly marketsDone: number;
  readonly marketsTotal: number;
}

/** One market's part of a fetch, complete once its meta arrived. */
export interface MarketTally {
  readonly market: string;
  candles: number;
  meta: ResponseMeta | undefined;
}

/**
 * Counts what a FetchCandleRange stream delivered: candles per market, and each market's final
 * meta (on its last batch) for upstream calls and gaps.
 */
export class FetchTally {
  private readonly markets: MarketTally[] = [];
  private candleCount = 0;
  private latest: FetchProgress;

  constructor(marketsTotal: number) {
    this.latest = { market: "", candles: 0, bucketsDone: 0, bucketsTotal: 0, marketsDone: 0, marketsTotal };
  }

  /** Counts `batch`; returns the market's tally when this batch completed it (carried its meta). */
  add(batch: CandleBatch): MarketTally | undefined {
    let m = this.markets.at(-1);
    if (m === undefined || m.market !== batch.market) {
      m = { market: batch.market, candles: 0, meta: undefined };
      this.markets.push(m);
    }
    m.candles += batch.timeMs.length;
    this.candleCount += batch.timeMs.length;
    const p = batch.progress;
    this.latest = {
      market: batch.market,
      candles: this.candleCount,
      bucketsDone: p === undefined ? this.latest.bucketsDone : Number(p.bucketsDone),
      bucketsTotal: p === undefined ? this.latest.bucketsTotal : Number(p.bucketsTotal),
      marketsDone: p?.marketsDone ?? this.latest.marketsDone,
      marketsTotal: p?.marketsTotal || this.latest.marketsTotal,
    };
    if (batch.meta === undefined) return undefined;
    m.meta = batch.meta;
    return m;
  }

  progress(): FetchProgress {
    return this.latest;
  }

  candles(): number {
    return this.candleCount;
  }

  upstreamCalls(): number {
    return this.markets.reduce((n, m) => n + (m.meta?.upstreamCalls ?? 0), 0);
  }

  /** Every market's final gaps, in stream order. */
  gaps(): { market: string; gap: Gap }[] {
    return this.markets.flatMap((m) => (m.meta?.gaps ?? []).map((gap) => ({ market: m.market, gap })));
  }

  marketTallies(): readonly MarketTally[] {
    return this.markets;
  }
}

/** `market: 1,440 candles, 8 upstream calls, 0 gaps` — the line printed when a market completes. */
export function marketDoneLine(m: MarketTally): string {
  const gaps = m.meta?.gaps.length ?? 0;
  return `${m.market}: ${count(m.candles)} candles, ${count(m.meta?.upstreamCalls ?? 0)} upstream calls, ${count(gaps)} ${gaps === 1 ? "gap" : "gaps"}`;
}

export interface FetchSummary {
  readonly file: string;
  readonly tally: FetchTally;
  readonly elapsedMs: number;
}

/** Gaps listed one by one in the summary; the rest are counted. */
const LISTED_GAPS = 10;

/** The summary printed when a fetch has finished: one `name  value` line per figure, then gaps. */
export function formatFetchSummary(s: FetchSummary): string {
  const seconds = s.elapsedMs / 1000;
  const candles = s.tally.candles();
  const gaps = s.tally.gaps();
  const rows: [string, string][] = [
    ["file", s.file],
    ["markets", count(s.tally.marketTallies().length)],
    ["candles", count(candles)],
    ["gaps", count(gaps.length)],
    ["upstream calls", count(s.tally.upstreamCalls())],
    ["time", `${seconds.toFixed(2)} s`],
    ["rate", `${count(seconds > 0 ? Math.round(candles / seconds) : candles)} candles/s`],
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(14)}  ${v}`);
  for (const { market, gap } of gaps.slice(0, LISTED_GAPS)) lines.push(`  gap ${gapText(market, gap)}`);
  if (gaps.length > LISTED_GAPS) lines.push(`  ... and ${count(gaps.length - LISTED_GAPS)} more gaps`);
  return `${lines.join("\n")}\n`;
}

/** `KRW-BTC 2024-01-01T00:00:00.000Z .. 2024-01-01T01:00:00.000Z FORMING (detail)` */
export function gapText(market: string, gap: Gap): string {
  const reason = GapReason[gap.reason] ?? String(gap.reason);
  const detail = gap.detail === "" ? "" : ` (${gap.detail})`;
  return `${market} ${isoTime(Number(gap.startMs))} .. ${isoTime(Number(gap.endMs))} ${reason}${detail}`;
}
