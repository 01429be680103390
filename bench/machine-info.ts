import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

/** What a benchmark ran on, for its JSON: figures only compare within one machine. */
export function machineInfo(): { cpuModel: string; cpus: number; totalMemGiB: number; node: string; platform: string } {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cpus: cpus().length,
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The machine's CPU time so far (/proc/stat, all CPUs, clock ticks): all of it and what the host took. */
interface CpuTicks {
  total: number;
  steal: number;
}

function cpuTicks(): CpuTicks {
  let line: string | undefined;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  } catch {
    return { total: 0, steal: 0 };
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const f = (line ?? "").trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
}

/**
 * Starts timing the share of the machine's CPU time the hypervisor gave to other guests (steal).
 * A virtual machine's CPUs lose time to its neighbours unseen by any process: during heavy steal
 * every figure slows, and a pipeline of processes slows more than one process. NaN off Linux.
 */
export function stealMeter(): () => number {
  const from = cpuTicks();
  return () => {
    const to = cpuTicks();
    const total = to.total - from.total;
    return total > 0 ? (to.steal - from.steal) / total : NaN;
  };
}
