import type { MessageInitShape } from "@bufbuild/protobuf";
import { Timeframe } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import type { CandleSegmentSchema, ReadCandlesRequestSchema, StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { allocateColumns, type CandleColumns, type CandleRow, PRICE_COLUMNS, rowsFromColumns, sliceColumns } from "../../src/shared/candle-columns.js";
import { columnsFromWire, columnsToWire } from "../../src/shared/candle-columns-wire.js";
import type { GrpcClient } from "../../src/shared/grpc/client.js";

export const MINUTE = 60_000;
/** 2024-01-01T00:00:00Z: a fixed, aligned, long-closed time for test data. */
export const T0 = Date.UTC(2024, 0, 1);

/** `n` valid candles `step` ms apart from `start`; `seed` varies the prices. */
export function makeCandles(start: number, n: number, step = MINUTE, seed = 1): CandleColumns {
  const c = allocateColumns(n);
  for (let i = 0; i < n; i++) {
    const base = 1000 + ((i * 7 + seed * 13) % 100);
    c.time[i] = BigInt(start + i * step);
    c.open[i] = base;
    c.close[i] = base + 1;
    c.high[i] = base + 2;
    c.low[i] = base - 1;
    c.volume[i] = 0.5 + (i % 3);
    c.quoteVolume[i] = (0.5 + (i % 3)) * base;
  }
  return c;
}

export function segment(
  market: string,
  candles: CandleColumns,
  verified: { start: number; end: number }[] = [],
  timeframe: Timeframe = Timeframe.MINUTE_1,
): MessageInitShape<typeof CandleSegmentSchema> {
  return {
    market,
    timeframe,
    candles: columnsToWire(candles),
    verified: verified.map((v) => ({ startMs: BigInt(v.start), endMs: BigInt(v.end) })),
  };
}

/** Every candle a ReadCandles call streams, as rows, plus the number of messages. */
export async function readAll(
  client: GrpcClient<typeof StorageService>,
  req: MessageInitShape<typeof ReadCandlesRequestSchema>,
): Promise<{ rows: CandleRow[]; messages: number }> {
  const rows: CandleRow[] = [];
  let messages = 0;
  for await (const m of client.readCandles({ timeframe: Timeframe.MINUTE_1, ...req })) {
    messages++;
    rows.push(...rowsFromColumns(columnsFromWire(m.candles, "candles")));
  }
  return { rows, messages };
}

/** `rows` as columns that view larger ones at an offset, as store batches and decoded messages can. */
export function offsetColumnsOf(rows: readonly { time: bigint; prices: readonly number[] }[]): CandleColumns {
  const c = allocateColumns(rows.length + 2);
  rows.forEach((r, i) => {
    c.time[i + 1] = r.time;
    PRICE_COLUMNS.forEach((name, k) => (c[name][i + 1] = r.prices[k]!));
  });
  return sliceColumns(c, 1, rows.length + 1);
}

/** The candle fields of a CandleBatch holding `c`, for protobuf-es to write the reference bytes hand-written encoders must equal. */
export function candleBatchFieldsOf(c: CandleColumns) {
  return { timeMs: [...c.time], open: [...c.open], high: [...c.high], low: [...c.low], close: [...c.close], volume: [...c.volume], quoteVolume: [...c.quoteVolume] };
}
