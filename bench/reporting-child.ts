/**
 * A helper process of a benchmark that measures while the bench runs: it prints `ready` once it
 * measures, and one line of JSON with what it saw once its stdin ends.
 */
import { spawn } from "node:child_process";

/** Starts `node ...args`; resolves once it is ready. The returned function ends it and resolves with its report. */
export async function startReportingChild<T>(args: readonly string[], what: string): Promise<() => Promise<T>> {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    void exited.then((code) => reject(new Error(`${what} exited with ${code} before it was ready`)));
  });
  return async () => {
    child.stdin.end();
    const code = await exited;
    const line = out.split("\n")[1];
    if (code !== 0 || !line) throw new Error(`${what} exited with ${code}: ${out}`);
    return JSON.parse(line) as T;
  };
}
