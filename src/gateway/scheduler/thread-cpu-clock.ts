import { closeSync, openSync, readSync } from "node:fs";

/** Milliseconds of CPU time consumed so far; only differences mean anything. */
export type CpuClock = () => number;

/**
 * CPU time of the calling thread, read from Linux's `/proc/thread-self/schedstat` (its first field
 * is nanoseconds spent running, kept exactly by the scheduler); elsewhere the whole process's
 * `process.cpuUsage()`, which counts GC and pool threads too and so can only overstate.
 * Made on the main thread, it times the event loop's thread: the part of a delay it spent running
 * rather than waiting for a core.
 */
export function threadCpuClock(): { read: CpuClock; close(): void } {
  let fd: number;
  try {
    fd = openSync("/proc/thread-self/schedstat", "r");
  } catch {
    return { read: processCpuMs, close: () => undefined };
  }
  const buffer = Buffer.alloc(64);
  return {
    read: () => {
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      const space = buffer.indexOf(0x20);
      return Number(buffer.toString("latin1", 0, space < 0 || space > n ? n : space)) / 1e6;
    },
    close: () => closeSync(fd),
  };
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
}
