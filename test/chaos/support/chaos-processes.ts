/**
 * The real programs a chaos scenario breaks: the Upbit simulator as its own process (fault
 * injection and traffic counters through its admin API) and the gateway as `npm start` runs it,
 * with its storage daemon sidecar, on free ports and a fresh data directory. Each process is
 * watched through its own output lines, so a scenario waits on what the program says it did.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MarketDataService } from "../../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { StorageService } from "../../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient, type GrpcClient } from "../../../src/shared/grpc/client.js";
import { removeDir, tempDir } from "../../support/daemon-process.js";
export { rssMiB } from "../../../bench/process-rss.js";
import { JsonLineLog } from "./line-log.js";

const GATEWAY_MAIN = fileURLToPath(new URL("../../../src/gateway/main.ts", import.meta.url));
const SIM_MAIN = fileURLToPath(new URL("../../../src/upbit-sim/main.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** What the daemon's command line contains (src/gateway/daemon-sidecar.ts spawns it). */
const DAEMON_SCRIPT = "storage-daemon/main";
const START_TIMEOUT_MS = 60_000;

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A program of this repo running as a child of the test, with its listening line and its stderr lines. */
export interface ChildProgram {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly listening: Record<string, unknown>;
  readonly stderr: JsonLineLog;
  readonly exited: Promise<Exit>;
  isAlive(): boolean;
}

async function launch(main: string, args: readonly string[], env: Record<string, string>): Promise<ChildProgram> {
  const child = spawn(process.execPath, ["--import", TSX, main, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const stderr = new JsonLineLog(child.stderr!);
  const stdout = new JsonLineLog(child.stdout!);
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const listening = await Promise.race([
    stdout.next(`the listening line of ${main}`, (f) => f.event === "listening", START_TIMEOUT_MS),
    exited.then((e) => Promise.reject(new Error(`${main} exited (${e.code ?? e.signal}) before listening:\n${stderr.tail()}`))),
  ]).catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  return {
    child,
    pid: child.pid!,
    listening,
    stderr,
    exited,
    isAlive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** One group's counters from the simulator's `GET /_sim/stats`. */
export interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

/** `POST /_sim/faults` fields (src/upbit-sim/fault-injection.ts). */
export interface FaultPatch {
  latencyMs?: number;
  errorRate?: number;
  burst429?: { count: number };
  wsDisconnectEveryMs?: number | null;
  wsStall?: boolean;
}

export interface SimProcess {
  readonly program: ChildProgram;
  readonly restUrl: string;
  readonly wsUrl: string;
  /** The seed and KRW market count it runs with (for a reference exchange built alike). */
  readonly seed: number;
  readonly markets: number;
  readonly rateLimit: number;
  traffic(): Promise<Record<string, GroupTraffic>>;
  websocketStats(): Promise<Record<string, number>>;
  setFaults(patch: FaultPatch): Promise<void>;
  /** The faults in force; `burst429.count` is what is left of the last burst. */
  faults(): Promise<{ burst429: { count: number } } & Record<string, unknown>>;
  /** Clears counters, rate-limit state and faults. */
  reset(): Promise<void>;
  stop(): Promise<Exit>;
}

export interface SimOptions {
  seed?: number;
  markets?: number;
  rateLimit?: number;
}

export async function startSimulatorProcess(options: SimOptions = {}): Promise<SimProcess> {
  const seed = options.seed ?? 1;
  const markets = options.markets ?? 200;
  const rateLimit = options.rateLimit ?? 10;
  const program = await launch(SIM_MAIN, ["--port", "0", "--seed", String(seed), "--markets", String(markets), "--rate-limit", String(rateLimit)], {
    BACKBONE_LOG_LEVEL: "warn",
  });
  const restUrl = String(program.listening.restUrl);
  const admin = async (path: string, body?: unknown): Promise<unknown> => {
    const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    const res = await fetch(`${restUrl}${path}`, init);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  return {
    program,
    restUrl,
    wsUrl: String(program.listening.wsUrl),
    seed,
    markets,
    rateLimit,
    traffic: async () => ((await admin("/_sim/stats")) as { groups: Record<string, GroupTraffic> }).groups,
    websocketStats: async () => ((await admin("/_sim/stats")) as { websocket: Record<string, number> }).websocket,
    setFaults: async (patch) => void (await admin("/_sim/faults", patch)),
    faults: async () => (await admin("/_sim/faults")) as { burst429: { count: number } } & Record<string, unknown>,
    reset: async () => void (await admin("/_sim/reset", {})),
    stop: () => stopChild(program, 20_000),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
async function stopChild(program: ChildProgram, graceMs: number): Promise<Exit> {
  if (!program.isAlive()) return program.exited;
  program.child.kill("SIGTERM");
  const timer = setTimeout(() => program.child.kill("SIGKILL"), graceMs);
  const exit = await program.exited;
  clearTimeout(timer);
  return exit;
}

export interface GatewayProcess {
  readonly program: ChildProgram;
  /** The public gRPC address. */
  readonly address: string;
  /** The daemon's address (stable across its restarts). */
  readonly storageAddress: string;
  readonly dataDir: string;
  /** A client of the public API. */
  readonly client: GrpcClient<typeof MarketDataService>;
  /** A client of the daemon's internal API, for checking the store. */
  readonly storage: GrpcClient<typeof StorageService>;
  /** The running daemon's pid (the gateway's child running the daemon), undefined between a crash and its restart. */
  daemonPid(): number | undefined;
  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<Exit>;
}

export interface GatewayOptions {
  /** Extra BACKBONE_* variables. */
  env?: Record<string, string>;
  /** An existing data directory (a restart); a fresh temporary one otherwise. */
  dataDir?: string;
}

/**
 * `npm start` against the simulator: the gateway process and its daemon sidecar, logging at info
 * (the supervisor's lines about its daemon are what scenarios wait on), metrics off (no port clash
 * between scenarios).
 */
export async function startGatewayProcess(sim: SimProcess, options: GatewayOptions = {}): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? join(tempDir("mdb-chaos-"), "data");
  const program = await launch(GATEWAY_MAIN, [], {
    BACKBONE_LISTEN: "127.0.0.1:0",
    BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
    BACKBONE_DATA_DIR: dataDir,
    BACKBONE_METRICS_LISTEN: "off",
    BACKBONE_LOG_LEVEL: "info",
    UPBIT_REST_URL: sim.restUrl,
    UPBIT_WS_URL: sim.wsUrl,
    ...options.env,
  });
  const address = String(program.listening.address);
  const storageAddress = String(program.listening.storageAddress);
  const client = createGrpcClient(MarketDataService, address);
  const storage = createGrpcClient(StorageService, storageAddress);
  return {
    program,
    address,
    storageAddress,
    dataDir,
    client,
    storage,
    daemonPid: () => childRunning(program.pid, DAEMON_SCRIPT),
    stop: async (graceMs = 30_000) => {
      client.close();
      storage.close();
      return stopChild(program, graceMs);
    },
  };
}

/** Removes a gateway's temporary data directory (the parent `startGatewayProcess` made). */
export function removeDataDir(dataDir: string): void {
  removeDir(join(dataDir, ".."));
}

/** The pid of `parent`'s child whose command line contains `script`, if any. */
export function childRunning(parent: number, script: string): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${parent}/task`);
  } catch {
    return undefined; // the parent is gone
  }
  for (const task of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
    } catch {
      continue;
    }
    for (const pid of children === "" ? [] : children.split(/\s+/).map(Number)) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        // A zombie (killed, not yet reaped) has an empty command line.
        if (cmdline.includes(script)) return pid;
      } catch {
        // exited meanwhile
      }
    }
  }
  return undefined;
}

/** Whether `pid` names a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name in parentheses, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
