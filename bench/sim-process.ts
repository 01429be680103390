/**
 * The Upbit simulator as its own process, for benchmarks: its CPU then does not share the event
 * loop of the process being measured. Reads the `listening` line `src/upbit-sim/main.ts` prints.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const SIM_MAIN = new URL("../src/upbit-sim/main.ts", import.meta.url).pathname;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** One group's counters from `GET /_sim/stats`. */
export interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

export interface SimProcess {
  readonly restUrl: string;
  readonly wsUrl: string;
  /** Per-group traffic counters since the last reset. */
  traffic(): Promise<Record<string, GroupTraffic>>;
  /** Zeroes the counters (and clears faults). */
  reset(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after a timeout). */
  stop(): Promise<void>;
}

export async function launchSimulator(args: readonly string[]): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SIM_MAIN, ...args], {
    env: { ...process.env, BACKBONE_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(kill);
  };
  let urls: { restUrl: string; wsUrl: string };
  try {
    urls = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`simulator did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
      void exited.then(() => reject(new Error(`simulator exited before listening:\n${stderr}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        try {
          const event = JSON.parse(line) as { event?: string; restUrl?: string; wsUrl?: string };
          if (event.event === "listening" && event.restUrl && event.wsUrl) {
            clearTimeout(timer);
            resolve({ restUrl: event.restUrl, wsUrl: event.wsUrl });
          }
        } catch {
          // not the listening line
        }
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const admin = async (path: string, body?: unknown): Promise<unknown> => {
    const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    const res = await fetch(`${urls.restUrl}${path}`, init);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  return {
    ...urls,
    traffic: async () => ((await admin("/_sim/stats")) as { groups: Record<string, GroupTraffic> }).groups,
    reset: async () => void (await admin("/_sim/reset", {})),
    stop,
  };
}
