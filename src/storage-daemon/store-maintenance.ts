import type { Logger } from "../shared/logger.js";
import { type Timeframe, TIMEFRAMES } from "../shared/timeframe.js";
import type { StorageFigures } from "./candle-table-sql.js";
import type { CompactionResult } from "./duckdb-candle-store.js";
import { retentionCutoff, type RetentionRules } from "./retention-rules.js";
import { SerialQueue } from "./serial-queue.js";

/** What maintenance needs of the store; the DuckDB store has it, a unit test can fake it. */
export interface MaintainableStore {
  storageFigures(): Promise<StorageFigures>;
  deleteOlderThan(cutoffs: ReadonlyMap<Timeframe, number>): Promise<number>;
  compact(): Promise<CompactionResult>;
  checkpoint(): Promise<boolean>;
}

export interface MaintenanceOptions {
  /** Periodic checkpoint, ms; 0 = off. */
  checkpointIntervalMs: number;
  /** Periodic maintenance run, ms; 0 = off (Maintain only). */
  maintenanceIntervalMs: number;
  /** Compact when free blocks / total blocks exceeds this... */
  compactFreeRatio: number;
  /** ...and the file is at least this large, bytes. */
  compactMinBytes: number;
  retention: RetentionRules;
}

/** No timers, no retention: maintenance only when Maintain asks, with the default thresholds. */
export const ON_REQUEST_ONLY: MaintenanceOptions = {
  checkpointIntervalMs: 0,
  maintenanceIntervalMs: 0,
  compactFreeRatio: 0.3,
  compactMinBytes: 64 * 1024 * 1024,
  retention: new Map(),
};

/** What one maintenance run did. */
export interface MaintenanceRun {
  detail: string;
  retentionDeletedRows: number;
  compacted: boolean;
  checkpointed: boolean;
}

export interface MaintenanceStatus {
  /** When the last run finished, UTC ms; 0 = none since start. */
  lastMaintenanceMs: number;
  lastMaintenanceDetail: string;
  /** When the last compaction finished, UTC ms; 0 = none since start. */
  lastCompactionMs: number;
  /** Candles deleted by retention since start. */
  retentionDeletedRows: number;
  /** Per timeframe with a rule: how long it keeps, and the cutoff the last run applied (0 = none yet). */
  retention: { timeframe: Timeframe; keepMs: number; horizonMs: number }[];
}

/**
 * Whether the free blocks justify rewriting the candle table. `armed` is false after a compaction
 * until the free share has fallen below the threshold again: a rewrite leaves the old table's
 * blocks free (the file cannot give back blocks in its middle), so without this the free share it
 * leaves behind would trigger the next rewrite, and the next, every run.
 */
export function compactionDue(f: StorageFigures, o: Pick<MaintenanceOptions, "compactFreeRatio" | "compactMinBytes">, armed: boolean): boolean {
  return armed && f.totalBlocks > 0 && f.freeBlocks / f.totalBlocks > o.compactFreeRatio && f.databaseSizeBytes >= o.compactMinBytes;
}

/**
 * The store's upkeep: a periodic checkpoint (so the WAL a crash must replay stays short), and a
 * periodic maintenance run: retention, then compaction when free blocks pass the threshold,
 * then a checkpoint. Runs never overlap; every store step goes through the store's single writer.
 */
export class StoreMaintenance {
  private readonly runs = new SerialQueue();
  private readonly timers: NodeJS.Timeout[] = [];
  private timerRunPending = false;
  private checkpointInFlight: Promise<void> | undefined;
  private compactionArmed = true;
  private readonly horizons = new Map<Timeframe, number>();
  private readonly state = { lastMaintenanceMs: 0, lastMaintenanceDetail: "", lastCompactionMs: 0, retentionDeletedRows: 0 };

  constructor(
    private readonly store: MaintainableStore,
    private readonly options: MaintenanceOptions,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Starts the timers (an interval of 0 leaves its timer off). */
  start(): void {
    const { checkpointIntervalMs, maintenanceIntervalMs } = this.options;
    if (checkpointIntervalMs > 0) this.every(checkpointIntervalMs, () => this.periodicCheckpoint());
    if (maintenanceIntervalMs > 0) this.every(maintenanceIntervalMs, () => this.periodicRun());
  }

  /** Stops the timers and waits for the run or checkpoint in progress. */
  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all([this.runs.run(async () => undefined), this.checkpointInFlight]);
  }

  /** One maintenance run now, after any in progress; rejects when a store step fails. */
  run(forceCompaction = false): Promise<MaintenanceRun> {
    return this.runs.run(async () => {
      try {
        const result = await this.runNow(forceCompaction);
        this.state.lastMaintenanceDetail = result.detail;
        return result;
      } catch (e) {
        this.state.lastMaintenanceDetail = `failed: ${e instanceof Error ? e.message : String(e)}`;
        throw e;
      } finally {
        this.state.lastMaintenanceMs = this.now();
      }
    });
  }

  status(): MaintenanceStatus {
    return {
      ...this.state,
      retention: TIMEFRAMES.filter((tf) => this.options.retention.has(tf)).map((tf) => ({
        timeframe: tf,
        keepMs: this.options.retention.get(tf)!,
        horizonMs: this.horizons.get(tf) ?? 0,
      })),
    };
  }

  /** How long candles of `tf` are kept, ms; 0 = forever. */
  keepMs(tf: Timeframe): number {
    return this.options.retention.get(tf) ?? 0;
  }

  private async runNow(forceCompaction: boolean): Promise<MaintenanceRun> {
    const parts: string[] = [];
    let retentionDeletedRows = 0;
    if (this.options.retention.size > 0) {
      const now = this.now();
      const cutoffs = new Map([...this.options.retention].map(([tf, keep]) => [tf, retentionCutoff(tf, keep, now)] as const));
      retentionDeletedRows = await this.store.deleteOlderThan(cutoffs);
      for (const [tf, cutoff] of cutoffs) this.horizons.set(tf, cutoff);
      this.state.retentionDeletedRows += retentionDeletedRows;
      const cuts = [...cutoffs].map(([tf, cutoff]) => `${tf} before ${new Date(cutoff).toISOString()}`).join(", ");
      parts.push(`retention: deleted ${count(retentionDeletedRows)} candles (${cuts})`);
    } else {
      parts.push("retention: none configured");
    }

    const before = await this.store.storageFigures();
    if (before.totalBlocks > 0 && before.freeBlocks / before.totalBlocks <= this.options.compactFreeRatio) this.compactionArmed = true;
    const compacted = forceCompaction || compactionDue(before, this.options, this.compactionArmed);
    let checkpointed: boolean;
    if (compacted) {
      const started = this.now();
      const c = await this.store.compact();
      checkpointed = await this.store.checkpoint();
      this.compactionArmed = false;
      this.state.lastCompactionMs = this.now();
      const after = await this.store.storageFigures();
      parts.push(
        `compaction${forceCompaction ? " (forced)" : ""}: rewrote ${count(c.copied)} candles in ${count(this.state.lastCompactionMs - started)} ms, ` +
          `writes waited ${count(c.swapMs)} ms for the swap (${count(c.carried)} candles written meanwhile carried over); ` +
          `free blocks ${blocks(before)} -> ${blocks(after)}; file ${mib(before.databaseSizeBytes)} -> ${mib(after.databaseSizeBytes)}`,
      );
    } else {
      parts.push(`compaction: not needed (${blocks(before)} free, file ${mib(before.databaseSizeBytes)}; threshold ${percent(this.options.compactFreeRatio)} of a file of at least ${mib(this.options.compactMinBytes)}${this.compactionArmed ? "" : ", and waiting for the free share to fall below it after the last compaction"})`);
      checkpointed = await this.store.checkpoint();
    }
    parts.push(checkpointed ? "checkpoint: done" : "checkpoint: deferred (reads that began before the change are still running; the next checkpoint does it)");
    const detail = parts.join("; ");
    this.log.info("storage maintenance", { detail });
    return { detail, retentionDeletedRows, compacted, checkpointed };
  }

  private every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    // The timers must not keep a stopping process alive; the gRPC server does that while it runs.
    timer.unref();
    this.timers.push(timer);
  }

  private periodicRun(): void {
    // A run longer than the interval (a big compaction) must not pile runs up behind it.
    if (this.timerRunPending) return;
    this.timerRunPending = true;
    this.run(false)
      .catch((e: unknown) => this.log.error("storage maintenance failed", { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => (this.timerRunPending = false));
  }

  private periodicCheckpoint(): void {
    if (this.checkpointInFlight) return;
    this.checkpointInFlight = this.store
      .checkpoint()
      .then(
        (done) => {
          if (!done) this.log.info("checkpoint deferred: reads that began before a change are still running");
        },
        (e: unknown) => this.log.error("checkpoint failed", { error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => (this.checkpointInFlight = undefined));
  }
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function blocks(f: StorageFigures): string {
  return `${count(f.freeBlocks)} of ${count(f.totalBlocks)}`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}
