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
