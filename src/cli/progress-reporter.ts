import type { FetchProgress } from "./fetch-tally.js";
import { count, duration } from "./human-figures.js";

/** Where progress goes (stderr) and what kind of thing it is. */
export interface ProgressOutput {
  write(text: string): unknown;
  /** A terminal gets one bar redrawn in place; anything else gets plain lines. */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** Redraws of the terminal bar at most this often: more is flicker, not information. */
const BAR_REDRAW_MS = 100;
/** Plain progress lines at most this often, so a log file stays readable. */
const LINE_INTERVAL_MS = 1_000;
const BAR_WIDTH = 24;

/**
 * Progress of a bulk fetch on stderr. On a terminal: one bar, redrawn in place, with the
 * completed markets printed above it. Otherwise: a plain `progress ...` line at most once a
 * second, and a line whenever a market completes, so logs show both pace and boundaries.
 */
export class ProgressReporter {
  private readonly startedAt: number;
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  private barShown = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Before the first batch: on a terminal, an empty bar, so the wait for the gateway shows. */
  start(p: FetchProgress): void {
    if (!this.tty) return;
    this.lastDrawAt = this.now();
    this.draw(p);
  }

  /** After each batch. */
  update(p: FetchProgress): void {
    const t = this.now();
    if (t - this.lastDrawAt < (this.tty ? BAR_REDRAW_MS : LINE_INTERVAL_MS)) return;
    this.lastDrawAt = t;
    this.draw(p);
  }

  /** When a market completed: its line, always, then the bar again. */
  marketDone(line: string, p: FetchProgress): void {
    if (this.tty) {
      this.out.write(`\r\x1b[K${line}\n`);
      this.barShown = false;
      this.lastDrawAt = this.now();
      this.draw(p);
    } else {
      this.out.write(`done ${line}\n`);
    }
  }

  /** Clears the bar, so whatever follows starts on a clean line. */
  finish(): void {
    if (this.tty && this.barShown) this.out.write("\r\x1b[K");
    this.barShown = false;
  }

  private draw(p: FetchProgress): void {
    if (this.tty) {
      const line = progressBar(p, this.now() - this.startedAt);
      const width = this.out.columns ?? 0;
      this.out.write(`\r${width > 1 ? line.slice(0, width - 1) : line}\x1b[K`);
      this.barShown = true;
    } else {
      this.out.write(`${progressLine(p, this.now() - this.startedAt)}\n`);
    }
  }
}

/** Fraction done, by buckets (what the server counts), by markets until buckets are known. */
export function fractionDone(p: FetchProgress): number {
  if (p.bucketsTotal > 0) return Math.min(1, p.bucketsDone / p.bucketsTotal);
  return p.marketsTotal > 0 ? p.marketsDone / p.marketsTotal : 0;
}

/** `[#########...............]  37.5%  1/3 markets  KRW-ETH  12,345 candles  4,321/s  ETA 12s` */
export function progressBar(p: FetchProgress, elapsedMs: number): string {
  const f = fractionDone(p);
  const filled = Math.round(f * BAR_WIDTH);
  const parts = [
    `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`,
    `${(f * 100).toFixed(1).padStart(5)}%`,
    `${p.marketsDone}/${p.marketsTotal} markets`,
    p.market,
    `${count(p.candles)} candles`,
    `${count(rate(p.candles, elapsedMs))}/s`,
  ];
  if (f > 0 && f < 1) parts.push(`ETA ${duration((elapsedMs * (1 - f)) / f)}`);
  return parts.filter((x) => x !== "").join("  ");
}

/** `progress 37.5% buckets 1500/4000 markets 1/3 candles 12345 market KRW-ETH elapsed 3.2s` */
export function progressLine(p: FetchProgress, elapsedMs: number): string {
  return [
    "progress",
    `${(fractionDone(p) * 100).toFixed(1)}%`,
    `buckets ${p.bucketsDone}/${p.bucketsTotal}`,
    `markets ${p.marketsDone}/${p.marketsTotal}`,
    `candles ${p.candles}`,
    `market ${p.market}`,
    `elapsed ${(elapsedMs / 1000).toFixed(1)}s`,
  ].join(" ");
}

function rate(n: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs) : 0;
}
