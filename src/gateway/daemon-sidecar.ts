/**
 * Runs the storage daemon as a child process of the gateway and keeps it running: restarts it
 * with exponential backoff and jitter when it dies, and gives up (instead of looping forever)
 * only when it has never managed to start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "../shared/logger.js";
import { SERVER_NODE_FLAGS } from "../shared/server-node-flags.js";

export interface DaemonSidecarOptions {
  /** The daemon's data directory; created if missing. */
  dataDir: string;
  /** `unix:/path` or loopback `host:port`. With port 0, restarts reuse the port first bound, so clients keep one address. */
  listen: string;
  log: Logger;
  /** The daemon's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Delay before the first restart after a crash; doubles per crash in a row. Default 250 ms. */
  initialBackoffMs?: number;
  /** Longest delay between restarts. Default 30 s. */
  maxBackoffMs?: number;
  /** A daemon that stayed up this long was healthy: its crash restarts after the initial delay again. Default 60 s. */
  stableAfterMs?: number;
  /** Starts in a row that exit before listening, before the daemon has ever listened, after which the sidecar gives up. Default 3. */
  maxStartupFailures?: number;
  /** How long one start may take to report listening before it is killed and counted as failed. Default 60 s. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM (the daemon checkpoints) before SIGKILL. Default 30 s. */
  stopTimeoutMs?: number;
  /** Where the daemon's stderr goes. Default: this process's stderr. */
  stderr?: (chunk: Buffer) => void;
  /** Jitter source, in [0, 1). Default Math.random. */
  random?: () => number;
}

export type DaemonSidecarEvent =
  | { type: "spawned"; pid: number; start: number }
  | { type: "listening"; pid: number; address: string }
  | { type: "exited"; pid: number; code: number | null; signal: NodeJS.Signals | null; listened: boolean; uptimeMs: number; expected: boolean }
  | { type: "restart-scheduled"; delayMs: number; crashesInARow: number }
  | { type: "gave-up"; error: DaemonStartupError };

export interface DaemonSidecar {
  /** Resolves with the daemon's address the first time it listens; rejects when the sidecar gives up or is stopped first. */
  readonly ready: Promise<string>;
  /** The running daemon's pid; undefined between a crash and its restart. */
  readonly pid: number | undefined;
  /** The address the daemon listens on (stable across restarts once known). */
  readonly address: string | undefined;
  /** Calls `listener` for every lifecycle event; returns a function that removes it. */
  on(listener: (event: DaemonSidecarEvent) => void): () => void;
  /** No more restarts; SIGTERM to the daemon and wait for it to exit (SIGKILL after `stopTimeoutMs`). */
  stop(): Promise<void>;
  /** No more restarts; SIGKILL to the daemon now. For a forced exit. */
  kill(): void;
}

/** The daemon cannot be started at all: its data directory, its configuration or its environment is wrong. */
export class DaemonStartupError extends Error {
  override readonly name = "DaemonStartupError";
}

/** Exit reasons kept from the daemon's stderr for the give-up message. */
const STDERR_TAIL_BYTES = 2_000;

export function startDaemonSidecar(options: DaemonSidecarOptions): DaemonSidecar {
  const { log } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const maxStartupFailures = options.maxStartupFailures ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const random = options.random ?? Math.random;
  const writeStderr = options.stderr ?? ((chunk: Buffer) => process.stderr.write(chunk));

  const listeners = new Set<(event: DaemonSidecarEvent) => void>();
  const emit = (event: DaemonSidecarEvent): void => {
    for (const l of listeners) l(event);
  };

  let listen = options.listen;
  let address: string | undefined;
  let child: ChildProcess | undefined;
  let childExited: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let everListened = false;
  let startupFailures = 0;
  let crashesInARow = 0;
  let starts = 0;

  let settleReady: { resolve: (address: string) => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<string>((resolve, reject) => (settleReady = { resolve, reject }));
  // The caller may await `ready` later; a rejection before that must not count as unhandled.
  ready.catch(() => {});
  const failReady = (e: Error): void => {
    settleReady?.reject(e);
    settleReady = undefined;
  };

  // A gateway that exits without stop() (an uncaught error) must not leave its daemon behind.
  const onProcessExit = (): void => void child?.kill("SIGTERM");
  process.on("exit", onProcessExit);

  function spawnDaemon(): void {
    restartTimer = undefined;
    if (stopped) return;
    starts++;
    const command = daemonCommand();
    // Own process group: a terminal's Ctrl-C reaches only the gateway, which then stops the daemon in order.
    // stdin is the daemon's lifeline: it closes when this process dies, however it dies.
    const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...command, "--data-dir", options.dataDir, "--listen", listen, "--exit-with-stdin"], {
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    child = proc;
    const spawnedAt = Date.now();
    let listenedAt: number | undefined;
    let stderrTail = "";
    proc.stderr!.on("data", (chunk: Buffer) => {
      writeStderr(chunk);
      stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    const startTimer = setTimeout(() => {
      log.error("storage daemon did not report listening in time; killing it", { pid: proc.pid, timeoutMs: startTimeoutMs });
      proc.kill("SIGKILL");
    }, startTimeoutMs);

    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const reported = listeningAddress(line);
      if (reported === undefined || listenedAt !== undefined) return;
      clearTimeout(startTimer);
      listenedAt = Date.now();
      everListened = true;
      startupFailures = 0;
      address = reported;
      // Port 0 picked a free port; asking for the same one on restart keeps the gateway's channel valid.
      if (!listen.startsWith("unix:")) listen = reported;
      log.info("storage daemon listening", { pid: proc.pid, address: reported, start: starts });
      emit({ type: "listening", pid: proc.pid!, address: reported });
      settleReady?.resolve(reported);
      settleReady = undefined;
    });

    let resolveExited: () => void = () => {};
    childExited = new Promise<void>((resolve) => (resolveExited = resolve));
    proc.once("exit", (code, signal) => {
      clearTimeout(startTimer);
      if (child === proc) child = undefined;
      const listened = listenedAt !== undefined;
      const uptimeMs = Date.now() - (listenedAt ?? spawnedAt);
      emit({ type: "exited", pid: proc.pid!, code, signal, listened, uptimeMs, expected: stopped });
      resolveExited();
      if (stopped) {
        log.info("storage daemon stopped", { pid: proc.pid, code, signal });
        return;
      }
      log.warn("storage daemon exited", { pid: proc.pid, code, signal, listened, uptimeMs });
      afterCrash(listened, uptimeMs, code, signal, stderrTail);
    });
    // spawn reports a missing executable as an 'error' without an 'exit'.
    proc.once("error", (e) => {
      if (proc.pid !== undefined) return;
      clearTimeout(startTimer);
      if (child === proc) child = undefined;
      resolveExited();
      giveUp(new DaemonStartupError(`cannot start the storage daemon (${process.execPath}): ${e.message}`));
    });
    if (proc.pid !== undefined) {
      log.info("storage daemon started", { pid: proc.pid, start: starts, listen });
      emit({ type: "spawned", pid: proc.pid, start: starts });
    }
  }

  function afterCrash(listened: boolean, uptimeMs: number, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): void {
    if (!listened) {
      startupFailures++;
      if (!everListened && startupFailures >= maxStartupFailures) {
        const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
        giveUp(
          new DaemonStartupError(
            `the storage daemon failed to start ${startupFailures} times in a row (last: ${how}); its last output:\n${stderrTail.trim() || "(none)"}`,
          ),
        );
        return;
      }
    }
    if (listened && uptimeMs >= stableAfterMs) crashesInARow = 0;
    const delayMs = backoffDelay(crashesInARow, initialBackoffMs, maxBackoffMs, random);
    crashesInARow++;
    log.warn("restarting storage daemon", { inMs: delayMs, crashesInARow });
    emit({ type: "restart-scheduled", delayMs, crashesInARow });
    restartTimer = setTimeout(spawnDaemon, delayMs);
  }

  function giveUp(error: DaemonStartupError): void {
    stopped = true;
    process.off("exit", onProcessExit);
    log.error("giving up on the storage daemon", { error: error.message });
    emit({ type: "gave-up", error });
    failReady(error);
  }

  try {
    mkdirSync(options.dataDir, { recursive: true });
    spawnDaemon();
  } catch (e) {
    giveUp(new DaemonStartupError(`cannot create the data directory ${options.dataDir}: ${e instanceof Error ? e.message : String(e)}`));
  }

  function halt(): ChildProcess | undefined {
    stopped = true;
    clearTimeout(restartTimer);
    restartTimer = undefined;
    process.off("exit", onProcessExit);
    failReady(new Error("the storage daemon sidecar was stopped before the daemon listened"));
    return child;
  }

  return {
    ready,
    get pid() {
      return child?.pid;
    },
    get address() {
      return address;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      const proc = halt();
      if (proc === undefined) return;
      proc.kill("SIGTERM");
      const force = setTimeout(() => {
        log.warn("storage daemon did not stop in time; killing it", { pid: proc.pid, timeoutMs: stopTimeoutMs });
        proc.kill("SIGKILL");
      }, stopTimeoutMs);
      await childExited;
      clearTimeout(force);
    },
    kill() {
      halt()?.kill("SIGKILL");
    },
  };
}

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so crashed daemons
 * of several gateways on one host do not restart in lockstep.
 */
export function backoffDelay(crashesInARow: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(crashesInARow, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The address in a `{"event":"listening","address":...}` line, undefined for any other line. */
function listeningAddress(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { event?: unknown; address?: unknown };
    return event.event === "listening" && typeof event.address === "string" ? event.address : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Node arguments that run the daemon's entry point next to this module: the TypeScript source
 * through tsx (resolved from here, so any working directory works), or the compiled JavaScript.
 */
function daemonCommand(): string[] {
  if (import.meta.url.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    return ["--import", tsx, fileURLToPath(new URL("../storage-daemon/main.ts", import.meta.url))];
  }
  return [fileURLToPath(new URL("../storage-daemon/main.js", import.meta.url))];
}
