import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient, type GrpcClient } from "../../src/shared/grpc/client.js";

const MAIN = new URL("../../src/storage-daemon/main.ts", import.meta.url).pathname;

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly client: GrpcClient<typeof StorageService>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
}

/** A fresh temporary data directory; remove it with `removeDir`. */
export function tempDir(prefix = "mdb-daemon-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts the real daemon process on `dataDir`, waits for its "listening" line and connects a
 * client. Rejects with the process's stderr when it exits before listening.
 */
export async function startDaemon(
  dataDir: string,
  options: { env?: Record<string, string>; listen?: string } = {},
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--data-dir", dataDir, "--listen", options.listen ?? "127.0.0.1:0"], {
    env: { ...process.env, BACKBONE_LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const event = JSON.parse(line) as { event?: string; address?: string };
      if (event.event === "listening" && event.address) resolve(event.address);
    });
    void exited.then((code) => reject(new Error(`daemon exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, address, client: createGrpcClient(StorageService, address), exited, stderr: () => stderr };
}

/** SIGTERM, then wait for the exit; returns the exit code. */
export async function stopDaemon(d: DaemonProcess): Promise<number | string> {
  d.client.close();
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGTERM");
  return d.exited;
}
