/**
 * The streams bench's subscriber processes: each runs streams-worker.ts (under tsx, with an IPC
 * channel), so a thousand subscribers' traffic is drained by more than one event loop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { WorkerCommand, WorkerReply, WorkerRequest } from "./streams-worker.js";

const WORKER_MAIN = new URL("./streams-worker.ts", import.meta.url).pathname;
const STOP_TIMEOUT_MS = 10_000;

export interface SubscriberProcess {
  readonly pid: number;
  call<R>(command: WorkerCommand): Promise<R>;
  stop(): Promise<void>;
}

function start(): SubscriberProcess {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error(`subscriber process ${child.pid} exited`));
    waiting.clear();
  });
  child.on("message", (reply: WorkerReply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.result);
    else w.reject(new Error(`subscriber process ${child.pid}: ${reply.error}`));
  });
  return {
    pid: child.pid ?? -1,
    call: <R>(command: WorkerCommand) =>
      new Promise<R>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, command } satisfies WorkerRequest);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(kill);
    },
  };
}

export function startSubscriberProcesses(count: number): SubscriberProcess[] {
  return Array.from({ length: count }, start);
}

/** `total` subscribers spread as evenly as possible over `processes` (the first ones get the remainder). */
export function split(total: number, processes: number): number[] {
  return Array.from({ length: processes }, (_, i) => Math.floor(total / processes) + (i < total % processes ? 1 : 0));
}
