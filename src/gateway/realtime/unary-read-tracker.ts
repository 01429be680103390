/**
 * Smart routing's memory: how often each (type, market) was read by unary calls lately. A key
 * read more than `reads` times within `windowMs` turns hot (worth a WebSocket subscription, so
 * the reads become realtime-cache hits); a hot key not read for `windowMs` turns cold again.
 * Memory is bounded by the keys read within the last window, at most `reads + 1` times each.
 */

export interface UnaryReadThreshold {
  /** A key read more than this many times within `windowMs` turns hot. */
  reads: number;
  windowMs: number;
}

interface ReadHistory {
  /** Read times, oldest first, at most `reads + 1` kept. */
  times: number[];
  hot: boolean;
}

export class UnaryReadTracker {
  private readonly keys = new Map<string, ReadHistory>();

  constructor(private readonly threshold: UnaryReadThreshold) {
    if (!(Number.isInteger(threshold.reads) && threshold.reads >= 0)) throw new RangeError(`reads must be an integer >= 0, got ${threshold.reads}`);
    if (!(threshold.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${threshold.windowMs}`);
  }

  /** Records one read; true exactly when this read turned the key hot. */
  note(key: string, nowMs: number): boolean {
    let history = this.keys.get(key);
    if (history === undefined) this.keys.set(key, (history = { times: [], hot: false }));
    history.times.push(nowMs);
    if (history.times.length > this.threshold.reads + 1) history.times.shift();
    if (history.hot) return false;
    const oldest = history.times[0]!;
    if (history.times.length > this.threshold.reads && nowMs - oldest < this.threshold.windowMs) {
      history.hot = true;
      return true;
    }
    return false;
  }

  isHot(key: string): boolean {
    return this.keys.get(key)?.hot ?? false;
  }

  /** Forgets keys not read within the window; returns those that were hot (now cold). */
  sweep(nowMs: number): string[] {
    const cooled: string[] = [];
    for (const [key, history] of this.keys) {
      const last = history.times[history.times.length - 1] ?? Number.NEGATIVE_INFINITY;
      if (nowMs - last < this.threshold.windowMs) continue;
      this.keys.delete(key);
      if (history.hot) cooled.push(key);
    }
    return cooled;
  }

  get size(): number {
    return this.keys.size;
  }
}
