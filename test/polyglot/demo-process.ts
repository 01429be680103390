import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { removeDir, tempDir } from "../support/daemon-process.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DEMO_MAIN = fileURLToPath(new URL("../../src/demo/main.ts", import.meta.url));

/** `npm run demo` as a process (simulator, daemon sidecar, gateway), as a user of another language starts it. */
export interface DemoProcess {
  /** The public gRPC address, `127.0.0.1:PORT`. */
  readonly address: string;
  /** SIGTERM, wait for the exit, remove the data directory; resolves with the exit code. */
  stop(): Promise<number | string>;
}

/** Starts the demo on free ports with a fresh data directory (and `env` on top) and waits for its "listening" line. */
export async function startDemoProcess(env: Record<string, string> = {}): Promise<DemoProcess> {
  const dataDir = tempDir("mdb-polyglot-");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", DEMO_MAIN], {
    cwd: REPO,
    env: {
      ...process.env,
      BACKBONE_LISTEN: "127.0.0.1:0",
      BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
      BACKBONE_SIM_PORT: "0",
      BACKBONE_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const stop = async (): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const code = await exited;
    removeDir(dataDir);
    return code;
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.startsWith("{")) return; // the human instructions after the JSON line
        const event = JSON.parse(line) as { event?: string; address?: string };
        if (event.event === "listening" && event.address) resolve(event.address);
      });
      void exited.then((code) => reject(new Error(`demo exited (${code}) before listening:\n${stderr}`)));
    });
    return { address, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
