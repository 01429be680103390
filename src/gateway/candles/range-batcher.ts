import { type CandlePart, decodeCandleBatchFields, isEncoded } from "../../shared/candle-batch-wire.js";
import { type CandleColumns, columnsLength, concatColumns, sliceColumns } from "../../shared/candle-columns.js";

/**
 * Cuts a market's candles, arriving in parts of any size (store reads, fetched windows), into
 * batches of exactly `batchSize` (the last may be shorter). At most one batch's worth is held:
 * `push` resolves only once every full batch it completed has been handed on, so a consumer that
 * waits for the transport holds back the producer.
 *
 * Encoded parts (the daemon's, already in CandleBatch wire format) pass through as they are when
 * they fill a batch on their own, which is every store read asked for batches of `room` then
 * `batchSize` candles; any other encoded part is decoded and re-cut like columns.
 */
export class RangeBatcher {
  private parts: CandlePart[] = [];
  private held = 0;

  constructor(
    private readonly batchSize: number,
    private readonly emit: (candles: CandlePart) => Promise<void>,
  ) {}

  /** Candles that complete the batch being filled. */
  get room(): number {
    return this.batchSize - this.held;
  }

  async push(part: CandlePart): Promise<void> {
    if (isEncoded(part)) {
      if (this.held === 0 && part.count === this.batchSize) return this.emit(part);
      if (this.held === 0 && part.count < this.batchSize) {
        // Possibly the market's last batch as it is; decoded only if more follows.
        if (part.count > 0) this.parts.push(part);
        this.held = part.count;
        return;
      }
      part = decodeCandleBatchFields(part);
    }
    let rest: CandleColumns = part;
    while (columnsLength(rest) > 0) {
      const take = Math.min(this.room, columnsLength(rest));
      this.parts.push(take === columnsLength(rest) ? rest : sliceColumns(rest, 0, take));
      this.held += take;
      rest = sliceColumns(rest, take, columnsLength(rest));
      if (this.held === this.batchSize) await this.emit(this.take());
    }
  }

  /** What is held (possibly nothing), for the market's last batch. */
  take(): CandlePart {
    const parts = this.parts;
    this.parts = [];
    this.held = 0;
    if (parts.length === 1) return parts[0]!;
    return concatColumns(parts.map((p) => (isEncoded(p) ? decodeCandleBatchFields(p) : p)));
  }
}
