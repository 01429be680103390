/**
 * Resident memory of other processes (Linux /proc), for the benchmarks: which child of a process
 * runs a given script (the gateway's daemon sidecar), its RSS, and the peak RSS of a set of
 * processes over a stretch of time, both sampled and as the kernel's own high-water mark.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]);
}

/** Resident set size now (VmRSS), MiB. */
export function rssMiB(pid: number): number {
  return statusKiB(pid, "VmRSS") / 1024;
}

/** The pid of `parent`'s child whose command line contains `script`. */
export function childRunning(parent: number, script: string): number {
  for (const task of readdirSync(`/proc/${parent}/task`)) {
    const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
    for (const pid of children === "" ? [] : children.split(/\s+/).map(Number)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(script)) return pid;
      } catch {
        // exited meanwhile
      }
    }
  }
  throw new Error(`no child process of ${parent} runs ${script}`);
}

export interface RssPeak {
  /** RSS when sampling started, MiB. */
  beforeMiB: number;
  /** Highest RSS seen by sampling, MiB. */
  sampledPeakMiB: number;
  /** The kernel's peak RSS (VmHWM) since sampling started, MiB; undefined when it could not be reset. */
  kernelPeakMiB: number | undefined;
  /** RSS when sampling stopped, MiB. */
  afterMiB: number;
  /** The larger of the two peaks, MiB. */
  peakMiB: number;
}

/**
 * Watches `pids` from now until the returned function is called: VmRSS every `intervalMs`, and
 * VmHWM after resetting it (writing 5 to clear_refs, allowed for one's own processes), which
 * catches a peak shorter than the sampling interval.
 */
export function watchPeakRss(pids: readonly number[], intervalMs: number): () => RssPeak[] {
  const hwmReset = pids.map((pid) => {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
      return true;
    } catch {
      return false;
    }
  });
  const before = pids.map(rssMiB);
  const peaks = [...before];
  const sample = () => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, rssMiB(pid))));
  const timer = setInterval(sample, intervalMs);
  return () => {
    clearInterval(timer);
    sample();
    return pids.map((pid, i) => {
      const kernelPeakMiB = hwmReset[i] ? statusKiB(pid, "VmHWM") / 1024 : undefined;
      return {
        beforeMiB: before[i]!,
        sampledPeakMiB: peaks[i]!,
        kernelPeakMiB,
        afterMiB: rssMiB(pid),
        peakMiB: Math.max(peaks[i]!, kernelPeakMiB ?? 0),
      };
    });
  };
}
