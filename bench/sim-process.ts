/**
 * The Upbit simulator as its own process, for benchmarks: its CPU then does not share the event
 * loop of the process being measured. Reads the `listening` line `src/upbit-sim/main.ts` prints.
 */
import { launchListening } from "./listening-process.js";

const SIM_MAIN = new URL("../src/upbit-sim/main.ts", import.meta.url).pathname;

/** One group's counters from `GET /_sim/stats`. */
export interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

export interface SimProcess {
  readonly pid: number;
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
  const sim = await launchListening(SIM_MAIN, args);
  const urls = { restUrl: String(sim.listening.restUrl), wsUrl: String(sim.listening.wsUrl) };
  const admin = async (path: string, body?: unknown): Promise<unknown> => {
    const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    const res = await fetch(`${urls.restUrl}${path}`, init);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  return {
    pid: sim.pid,
    ...urls,
    traffic: async () => ((await admin("/_sim/stats")) as { groups: Record<string, GroupTraffic> }).groups,
    reset: async () => void (await admin("/_sim/reset", {})),
    stop: async () => void (await sim.stop()),
  };
}
