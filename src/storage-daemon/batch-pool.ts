import { allocateColumns, type CandleColumns } from "../shared/candle-columns.js";

/**
 * Column sets for range reads, reused once a batch has been encoded for the wire: a bulk read
 * would otherwise allocate and zero-fill ~560 KB of typed arrays per 10,000 candles (~4 % of the
 * daemon's CPU time in a profile of bulk fetches). Only the very sets it lent come back: a slice
 * of one, or rows of the tail cache, are never reused.
 */
export class BatchPool {
  private readonly spare = new Map<number, CandleColumns[]>();
  private readonly lent = new WeakSet<CandleColumns>();
  private spareCount = 0;

  /** `maxSpare` bounds the memory held: that many sets of the largest batch size. */
  constructor(private readonly maxSpare = 4) {}

  /** A set of `size` rows, to be filled completely before anything reads it. */
  take(size: number): CandleColumns {
    const reused = this.spare.get(size)?.pop();
    if (reused !== undefined) this.spareCount--;
    const c = reused ?? allocateColumns(size);
    this.lent.add(c);
    return c;
  }

  /** Takes `c` back when this pool lent it; nothing may read `c` afterwards. */
  giveBack(c: CandleColumns): void {
    if (!this.lent.delete(c) || this.spareCount >= this.maxSpare) return;
    const size = c.time.length;
    const list = this.spare.get(size);
    if (list === undefined) this.spare.set(size, [c]);
    else list.push(c);
    this.spareCount++;
  }
}
