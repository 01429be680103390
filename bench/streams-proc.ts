/**
 * What the streams bench reads about other processes from /proc (Linux): which child runs a
 * given script (launchListening does not say), its resident memory and its CPU time.
 */
import { readdirSync, readFileSync } from "node:fs";
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

/** The pid of this process's child whose command line contains `script`. */
export function childRunning(script: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    // After the paren: state, then ppid.
    if (Number(stat(pid)?.[1]) !== process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(script)) return pid;
    } catch {
      // exited meanwhile
    }
  }
  throw new Error(`no child process of ${process.pid} runs ${script}`);
}

/** Resident set size (VmRSS), MiB. */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
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
