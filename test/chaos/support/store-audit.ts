/**
 * Is the store consistent? Asked of the storage daemon's own API, series by series: the rows are
 * strictly ascending (no duplicate bucket), every row lies inside the coverage index, every
 * covered interval holds exactly the simulator's candles (coverage claims "complete": a missing
 * or extra row there is a lie), and the row count Stats reports matches the rows read.
 */
import type { SyntheticExchange } from "../../../src/upbit-sim/exchange-model.js";
import { StorageService } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import type { GrpcClient } from "../../../src/shared/grpc/client.js";
import type { Interval } from "../../../src/shared/intervals.js";
import { timeframeFromProto } from "../../../src/shared/timeframe.js";
import { readAll } from "../../support/candles.js";
import { candleDifference, expectedCandles, rowValues } from "./reference-exchange.js";

const FAR_FUTURE_MS = Date.UTC(2100, 0, 1);

export interface StoreAudit {
  series: number;
  /** Rows read back over all series. */
  rows: number;
  /** Candle rows the daemon's Stats reports over all series. */
  statsRows: number;
  /** Rows whose bucket repeats the previous row's. */
  duplicates: number;
  /** Rows older than the previous row. */
  unordered: number;
  /** Rows outside every covered interval. */
  outsideCoverage: number;
  /** Covered intervals checked against the simulator, and their buckets' candles. */
  coveredIntervals: number;
  coveredCandles: number;
  /** Covered intervals whose rows differ from the simulator's candles, described. */
  coverageMismatches: string[];
}

/** One number per series: rows; for comparing the store before and after. */
export async function storeShape(storage: GrpcClient<typeof StorageService>): Promise<{ series: number; rows: number }> {
  const stats = await storage.stats({});
  return { series: stats.series.length, rows: stats.series.reduce((n, s) => n + Number(s.rows), 0) };
}

export async function auditStore(storage: GrpcClient<typeof StorageService>, exchange: SyntheticExchange): Promise<StoreAudit> {
  const stats = await storage.stats({});
  const audit: StoreAudit = {
    series: stats.series.length,
    rows: 0,
    statsRows: 0,
    duplicates: 0,
    unordered: 0,
    outsideCoverage: 0,
    coveredIntervals: 0,
    coveredCandles: 0,
    coverageMismatches: [],
  };
  for (const s of stats.series) {
    const tf = timeframeFromProto(s.timeframe);
    const name = `${s.market} ${tf}`;
    audit.statsRows += Number(s.rows);
    const { rows } = await readAll(storage, { market: s.market, timeframe: s.timeframe, startMs: 0n, endMs: BigInt(FAR_FUTURE_MS) });
    audit.rows += rows.length;
    for (let i = 1; i < rows.length; i++) {
      if (rows[i]!.time === rows[i - 1]!.time) audit.duplicates++;
      else if (rows[i]!.time < rows[i - 1]!.time) audit.unordered++;
    }
    const missing = await storage.getMissing({ market: s.market, timeframe: s.timeframe, startMs: 0n, endMs: BigInt(FAR_FUTURE_MS) });
    const covered: Interval[] = missing.covered.map((i) => ({ start: Number(i.startMs), end: Number(i.endMs) }));
    audit.outsideCoverage += rows.filter((r) => !covered.some((c) => r.time >= c.start && r.time < c.end)).length;
    for (const c of covered) {
      audit.coveredIntervals++;
      const want = expectedCandles(exchange, s.market, tf, c.start, c.end);
      const got = rowValues(rows.filter((r) => r.time >= c.start && r.time < c.end));
      audit.coveredCandles += want.length;
      const difference = candleDifference(got, want);
      if (difference !== undefined) audit.coverageMismatches.push(`${name} covered [${new Date(c.start).toISOString()}, ${new Date(c.end).toISOString()}): ${difference}`);
    }
  }
  return audit;
}

/** The audit in one phrase for a scenario's summary line. */
export function describeAudit(a: StoreAudit): string {
  return (
    `store: ${a.series} series, ${a.rows} rows (Stats ${a.statsRows}), ${a.duplicates} duplicates, ${a.unordered} out of order, ` +
    `${a.outsideCoverage} outside coverage, ${a.coveredIntervals} covered intervals = ${a.coveredCandles} simulator candles, ${a.coverageMismatches.length} mismatches`
  );
}
