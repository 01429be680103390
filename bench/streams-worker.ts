/**
 * One subscriber process of the streams bench (started by streams-workers.ts): opens the
 * subscribers it is told to, stamps what they receive, and reports latency against the
 * reference receiver's stamps, its message counts and its own CPU and event-loop lag, so the
 * bench can tell whether the client side kept up.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Readers, type ReadersSpec, monotonicMs, openReaders } from "./streams-grpc-reader.js";
import { type HistogramData, LatencyHistogram } from "./streams-latency.js";
import { updateKey } from "./streams-proto-scan.js";

export type WorkerCommand =
  | { op: "open"; spec: Omit<ReadersSpec, "onUpdate"> }
  | { op: "record" }
  | { op: "stop" }
  | { op: "stall" }
  | { op: "report"; refs: Record<string, number> }
  | { op: "close" };

export interface WorkerReport {
  /** Live (non-snapshot) updates received during the window. */
  updates: number;
  windowMs: number;
  /** Receive − the reference receiver's receive of the same upstream message. */
  added: HistogramData;
  /** Mean added latency per second of the window (does it hold steady or keep growing?). */
  addedMeanBySecondMs: number[];
  /** Updates whose upstream message the reference receiver did not see in its window. */
  unmatched: number;
  /** Receive (wall clock) − the message's own `timestamp_ms`. */
  sinceStamp: HistogramData;
  cpuMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssMiB: number;
}

export interface WorkerRequest {
  id: number;
  command: WorkerCommand;
}

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const readers: Readers[] = [];
let recording = false;
let received = new Map<string, number[]>();
let sinceStamp = new LatencyHistogram();
let updates = 0;
let windowStart = 0;
let cpuStart = process.cpuUsage();
let stopped: { windowMs: number; cpuMs: number; loopDelayP99Ms: number; loopDelayMaxMs: number } | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

function onUpdate(update: { market: string; keyMs: number; stampMs: number }, mono: number, wall: number): void {
  if (!recording) return;
  updates++;
  sinceStamp.record(wall - update.stampMs);
  const key = updateKey(update.market, update.keyMs);
  const list = received.get(key);
  if (list === undefined) received.set(key, [mono]);
  else list.push(mono);
}

function stop(): void {
  recording = false;
  const cpu = process.cpuUsage(cpuStart);
  stopped = {
    windowMs: monotonicMs() - windowStart,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
}

function report(refs: Record<string, number>): WorkerReport {
  if (stopped === undefined) throw new Error("report before stop");
  const added = new LatencyHistogram();
  const bySecond: { sum: number; n: number }[] = [];
  let unmatched = 0;
  for (const [key, times] of received) {
    const ref = refs[key];
    if (ref === undefined) {
      unmatched += times.length;
      continue;
    }
    for (const t of times) {
      added.record(t - ref);
      const s = (bySecond[Math.max(0, Math.floor((t - windowStart) / 1000))] ??= { sum: 0, n: 0 });
      s.sum += t - ref;
      s.n++;
    }
  }
  const addedMeanBySecondMs = Array.from(bySecond, (s) => (s === undefined ? Number.NaN : s.sum / s.n));
  return { ...stopped, updates, added: added.data(), addedMeanBySecondMs, unmatched, sinceStamp: sinceStamp.data(), rssMiB: process.memoryUsage.rss() / 2 ** 20 };
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.op) {
    case "open": {
      const r = openReaders({ ...command.spec, onUpdate });
      readers.push(r);
      await r.ready;
      return r.errors();
    }
    case "record":
      received = new Map();
      sinceStamp = new LatencyHistogram();
      updates = 0;
      windowStart = monotonicMs();
      cpuStart = process.cpuUsage();
      loopDelay.reset();
      stopped = undefined;
      recording = true;
      return undefined;
    case "stop":
      stop();
      return undefined;
    case "stall":
      for (const r of readers) r.stall();
      return undefined;
    case "report":
      return report(command.refs);
    case "close": {
      const errors = readers.flatMap((r) => r.errors());
      await Promise.all(readers.splice(0).map((r) => r.close()));
      return errors;
    }
  }
}

process.on("message", (message: WorkerRequest) => {
  handle(message.command).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies WorkerReply),
    (e: unknown) => process.send?.({ id: message.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply),
  );
});
// The bench going away (IPC closed) ends this process too.
process.on("disconnect", () => process.exit(0));
