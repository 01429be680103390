/**
 * A control for event-loop measurements on a shared machine: a separate Node process that does
 * nothing but measure its own event-loop delay (as the gateway does, monitorEventLoopDelay at 2 ms
 * resolution). What it sees during a window is the machine's scheduling noise alone, so a gateway
 * figure near it says nothing about the gateway.
 */
import { spawn } from "node:child_process";

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
export async function startIdleLoopProbe(): Promise<() => Promise<LoopDelay>> {
  const child = spawn(process.execPath, ["-e", PROBE], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    void exited.then((code) => reject(new Error(`the event-loop probe exited with ${code} before measuring`)));
  });
  return async () => {
    child.stdin.end();
    const code = await exited;
    const line = out.split("\n")[1];
    if (code !== 0 || !line) throw new Error(`the event-loop probe exited with ${code}: ${out}`);
    return JSON.parse(line) as LoopDelay;
  };
}
