/**
 * A control for event-loop measurements on a shared machine: a separate Node process that does
 * nothing but measure its own event-loop delay (as the gateway does, monitorEventLoopDelay at 2 ms
 * resolution). What it sees during a window is the machine's scheduling noise alone, so a gateway
 * figure near it says nothing about the gateway.
 */
import { startReportingChild } from "./reporting-child.js";

const PROBE = `
const { monitorEventLoopDelay } = require("node:perf_hooks");
const h = monitorEventLoopDelay({ resolution: 2 });
h.enable();
process.stdout.write("ready\\n");
process.stdin.resume();
process.stdin.on("end", () => {
  h.disable();
  process.stdout.write(JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 }) + "\\n");
  process.exit(0);
});`;

export interface LoopDelay {
  maxMs: number;
  p99Ms: number;
}

/** Starts the probe; resolves once it measures. The returned function ends it and resolves with what it saw. */
export function startIdleLoopProbe(): Promise<() => Promise<LoopDelay>> {
  return startReportingChild<LoopDelay>(["-e", PROBE], "the event-loop probe");
}
