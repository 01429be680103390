/**
 * A program of this repo as its own process, for benchmarks: its CPU then does not share the
 * event loop of the process doing the measuring. Resolves once the program prints its JSON
 * `{"event":"listening",...}` line on stdout (every main here does).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ListeningProcess {
  /** The process id, for what /proc says about it (memory, CPU, children). */
  readonly pid: number;
  /** The fields of the listening line. */
  readonly listening: Readonly<Record<string, unknown>>;
  /** SIGTERM and wait for the exit (SIGKILL after a timeout); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function launchListening(
  main: string,
  args: readonly string[],
  env: Record<string, string> = {},
  nodeFlags: readonly string[] = [],
): Promise<ListeningProcess> {
  // BENCH_CPU_PROF_DIR: each program writes a V8 CPU profile there when it exits (for finding where time goes).
  const profile = process.env.BENCH_CPU_PROF_DIR === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`];
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, ...profile, "--import", "tsx", main, ...args], {
    env: { ...process.env, BACKBONE_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(kill);
    return code;
  };
  try {
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${main} did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
      void exited.then(() => reject(new Error(`${main} exited before listening:\n${stderr}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        try {
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event.event === "listening") {
            clearTimeout(timer);
            resolve(event);
          }
        } catch {
          // not the listening line
        }
      });
    });
    return { pid: child.pid!, listening, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
