import { type CandleColumns, columnsLength, concatColumns, sliceColumns } from "../../shared/candle-columns.js";

/**
 * Cuts a market's candles, arriving in parts of any size (store reads, fetched windows), into
 * batches of exactly `batchSize` (the last may be shorter). At most one batch's worth is held:
 * `push` resolves only once every full batch it completed has been handed on, so a consumer that
 * waits for the transport holds back the producer.
 */
export class RangeBatcher {
  private parts: CandleColumns[] = [];
  private held = 0;

  constructor(
    private readonly batchSize: number,
    private readonly emit: (candles: CandleColumns) => Promise<void>,
  ) {}

  async push(candles: CandleColumns): Promise<void> {
    let rest = candles;
    while (columnsLength(rest) > 0) {
      const take = Math.min(this.batchSize - this.held, columnsLength(rest));
      this.parts.push(take === columnsLength(rest) ? rest : sliceColumns(rest, 0, take));
      this.held += take;
      rest = sliceColumns(rest, take, columnsLength(rest));
      if (this.held === this.batchSize) await this.emit(this.take());
    }
  }

  /** What is held (possibly nothing), for the market's last batch. */
  take(): CandleColumns {
    const out = this.parts.length === 1 ? this.parts[0]! : concatColumns(this.parts);
    this.parts = [];
    this.held = 0;
    return out;
  }
}
