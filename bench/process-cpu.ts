/**
 * CPU time of other processes (Linux /proc) and the machine's load, for the benchmarks that run
 * the gateway in a process of its own (their memory: process-rss.ts).
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; everything after its closing paren splits cleanly.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** User + system CPU time so far, ms. */
export function cpuMs(pid: number): number {
  const s = stat(pid);
  if (s === undefined) throw new Error(`no /proc/${pid}/stat`);
  // utime and stime: fields 14 and 15 of stat, indexes 11 and 12 after the paren.
  return ((Number(s[11]) + Number(s[12])) / CLOCK_TICKS) * 1000;
}

export function loadAverage(): { "1m": number; "5m": number; "15m": number } {
  const [a, b, c] = loadavg();
  return { "1m": a ?? NaN, "5m": b ?? NaN, "15m": c ?? NaN };
}
