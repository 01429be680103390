import type { Candle, CandleBatch } from "../gen/backbone/marketdata/v1/market_data_pb.js";
import { csvField, csvLine, plainNumber, type Records } from "./output-format.js";
import { isoTime } from "./time-arg.js";

/**
 * The columns of a candle in every output of the CLI (stdout and files alike), so a `candles`
 * answer and a `fetch` file read the same way.
 */
export const CANDLE_COLUMNS = ["market", "time_ms", "time", "open", "high", "low", "close", "volume", "quote_volume"] as const;

/** Rows of GetCandles' candles of `market`, in CANDLE_COLUMNS order. */
export function candleRecords(market: string, candles: readonly Candle[]): Records {
  return {
    columns: CANDLE_COLUMNS,
    rows: candles.map((c) => {
      const t = Number(c.timeMs);
      return [market, t, isoTime(t), c.open, c.high, c.low, c.close, c.volume, c.quoteVolume];
    }),
  };
}

export const CANDLE_CSV_HEADER = csvLine(CANDLE_COLUMNS);

/*
 * The batch formatters below spell exactly what formatCsv and jsonObject spell for the same
 * rows, without building a row object per candle: files of millions of candles go through them.
 */

/** CSV lines of a FetchCandleRange batch, without header. */
export function batchCsvLines(batch: CandleBatch): string {
  const market = csvField(batch.market);
  let text = "";
  for (let i = 0; i < batch.timeMs.length; i++) {
    const t = Number(batch.timeMs[i]);
    text += `${market},${t},${isoTime(t)},${plainNumber(batch.open[i]!)},${plainNumber(batch.high[i]!)},${plainNumber(batch.low[i]!)},${plainNumber(batch.close[i]!)},${plainNumber(batch.volume[i]!)},${plainNumber(batch.quoteVolume[i]!)}\n`;
  }
  return text;
}

/** JSON Lines of a FetchCandleRange batch: one object per candle keyed by CANDLE_COLUMNS. */
export function batchJsonLines(batch: CandleBatch): string {
  const market = JSON.stringify(batch.market);
  let text = "";
  for (let i = 0; i < batch.timeMs.length; i++) {
    const t = Number(batch.timeMs[i]);
    text += `{"market":${market},"time_ms":${t},"time":"${isoTime(t)}","open":${jsonNumber(batch.open[i]!)},"high":${jsonNumber(batch.high[i]!)},"low":${jsonNumber(batch.low[i]!)},"close":${jsonNumber(batch.close[i]!)},"volume":${jsonNumber(batch.volume[i]!)},"quote_volume":${jsonNumber(batch.quoteVolume[i]!)}}\n`;
  }
  return text;
}

/** What JSON.stringify spells for `n`: its shortest round-trip form, null when not finite. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}

/**
 * Refuses a batch whose columns differ in length: writing it would misalign prices and times in
 * the output file, silently.
 */
export function checkBatchShape(batch: CandleBatch): void {
  const n = batch.timeMs.length;
  const columns = { open: batch.open, high: batch.high, low: batch.low, close: batch.close, volume: batch.volume, quote_volume: batch.quoteVolume };
  for (const [name, values] of Object.entries(columns)) {
    if (values.length !== n) throw new Error(`the gateway sent a batch of ${batch.market} with ${n} times but ${values.length} ${name} values`);
  }
}
