/**
 * `npm start` as a user runs it: the gateway process with its storage daemon sidecar, against the
 * simulator, from a foreign working directory. Everything waits on output lines and exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client, credentials } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { StorageService } from "../../src/gen/backbone/storage/v1/storage_pb.js";
import { createGrpcClient } from "../../src/shared/grpc/client.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import { createSimulator, type Simulator } from "../../src/upbit-sim/simulator.js";
import { type DaemonSidecar, type DaemonSidecarEvent, startDaemonSidecar } from "../../src/gateway/daemon-sidecar.js";
import { silentLogger } from "../../src/shared/logger.js";
import { SERVER_NODE_FLAGS } from "../../src/shared/server-node-flags.js";
import { removeDir, tempDir } from "../support/daemon-process.js";
import { healthCheck, PUBLIC_SERVICE } from "../support/health-client.js";

const GATEWAY_MAIN = fileURLToPath(new URL("../../src/gateway/main.ts", import.meta.url));
// Absolute, because the process runs from a temporary directory without node_modules.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** Lines of one output stream, kept, with a way to wait for one that has not come yet. */
class LineLog {
  private readonly lines: string[] = [];
  private readonly waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void; what: string }>();
  private closed = false;

  constructor(input: Readable) {
    const lines = createInterface({ input });
    lines.on("line", (line) => {
      this.lines.push(line);
      for (const w of this.waiters) {
        if (!w.test(line)) continue;
        this.waiters.delete(w);
        w.resolve(line);
      }
    });
    lines.on("close", () => {
      this.closed = true;
      for (const w of this.waiters) w.reject(new Error(`output ended before ${w.what}:\n${this.text()}`));
      this.waiters.clear();
    });
  }

  /** The first line, seen already or still to come, that passes `test`. */
  waitFor(what: string, test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error(`output ended before ${what}:\n${this.text()}`));
    return new Promise((resolve, reject) => this.waiters.add({ test, resolve, reject, what }));
  }

  /** The first JSON line whose fields pass `test`. */
  async waitForJson(what: string, test: (fields: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return JSON.parse(await this.waitFor(what, (line) => test(parseJson(line)))) as Record<string, unknown>;
  }

  text(): string {
    return this.lines.join("\n");
  }
}

function parseJson(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

interface GatewayProcess {
  readonly child: ChildProcess;
  readonly stdout: LineLog;
  readonly stderr: LineLog;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: GatewayProcess[] = [];
const dirs: string[] = [];

function startGatewayProcess(env: Record<string, string>, cwd: string): GatewayProcess {
  const child = spawn(process.execPath, ["--import", TSX, GATEWAY_MAIN], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const p: GatewayProcess = {
    child,
    stdout: new LineLog(child.stdout!),
    stderr: new LineLog(child.stderr!),
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  running.push(p);
  return p;
}

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

/** A Watch stream: every status the server pushes, and how the stream ended. */
function healthWatch(address: string, service: string) {
  const client = new Client(address, credentials.createInsecure());
  const watch = healthService.Watch!;
  const call = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, { service });
  const statuses: string[] = [];
  const first = new Promise<string>((resolve) => call.once("data", (m: { status: string }) => resolve(m.status)));
  call.on("data", (m: { status: string }) => statuses.push(m.status));
  const ended = new Promise<number>((resolve) =>
    call.once("status", (s: { code: number }) => {
      client.close();
      resolve(s.code);
    }),
  );
  call.on("error", () => {}); // the code arrives through 'status'
  return { statuses, first, ended };
}

/** A log line of the gateway's supervisor, as opposed to the daemon's own lines on the same stderr. */
function fromSupervisor(fields: Record<string, unknown>, message: string): boolean {
  return fields.component === "gateway" && fields.message === message;
}

/** The arguments of process `pid` before its script: node's own (after it they would be the script's). */
function nodeFlagsOf(pid: number): string[] {
  const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(1);
  const script = args.findIndex((a) => a.includes("storage-daemon/main"));
  if (script < 0) throw new Error(`pid ${pid} does not run the storage daemon: ${args.join(" ")}`);
  return args.slice(0, script);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let sim: Simulator;
let upstreamEnv: Record<string, string>;
beforeAll(async () => {
  sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0 });
  const { restUrl, wsUrl } = await sim.start();
  upstreamEnv = { UPBIT_REST_URL: restUrl, UPBIT_WS_URL: wsUrl };
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  for (const d of dirs.splice(0)) removeDir(d);
});

describe("npm start (gateway process with its storage daemon sidecar)", () => {
  it("serves health, survives kill -9 of its daemon by restarting it on the same address, and stops both on SIGTERM with exit 0", async () => {
    const home = dir("mdb-start-");
    const gw = startGatewayProcess(
      {
        ...upstreamEnv,
        BACKBONE_LISTEN: "127.0.0.1:0",
        BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
        BACKBONE_DATA_DIR: join(home, "data"),
        BACKBONE_LOG_LEVEL: "info",
      },
      home,
    );
    const listening = await gw.stdout.waitForJson("the gateway's listening line", (f) => f.event === "listening");
    const address = listening.address as string;
    const storageAddress = listening.storageAddress as string;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(storageAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const first = await gw.stderr.waitForJson("the daemon's first start", (f) => fromSupervisor(f, "storage daemon listening"));
    const firstPid = first.pid as number;
    expect(isAlive(firstPid)).toBe(true);

    expect(await healthCheck(address, "")).toBe("SERVING");
    expect(await healthCheck(address, PUBLIC_SERVICE)).toBe("SERVING");
    const watch = healthWatch(address, "");
    expect(await watch.first).toBe("SERVING");

    process.kill(firstPid, "SIGKILL");
    await gw.stderr.waitForJson("the crash to be noticed", (f) => fromSupervisor(f, "storage daemon exited") && f.pid === firstPid && f.signal === "SIGKILL");
    const second = await gw.stderr.waitForJson("the restarted daemon", (f) => fromSupervisor(f, "storage daemon listening") && f.pid !== firstPid);
    const secondPid = second.pid as number;
    // Same address, so the gateway's store channel reconnects without being told.
    expect(second.address).toBe(storageAddress);
    const storage = createGrpcClient(StorageService, storageAddress);
    try {
      await storage.stats({});
    } finally {
      storage.close();
    }
    expect(await healthCheck(address, PUBLIC_SERVICE)).toBe("SERVING");
    expect(watch.statuses).toEqual(["SERVING"]);

    gw.child.kill("SIGTERM");
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    // Watchers hear NOT_SERVING, and their stream ends instead of holding the shutdown open.
    expect(await watch.ended).toBe(0);
    expect(watch.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(isAlive(secondPid)).toBe(false);
    await gw.stderr.waitForJson("the daemon's orderly stop", (f) => fromSupervisor(f, "storage daemon stopped") && f.pid === secondPid && f.code === 0);
  });

  it("does not leave its daemon behind when killed with -9: the daemon stops when its stdin closes", async () => {
    const home = dir("mdb-start-");
    const gw = startGatewayProcess(
      { ...upstreamEnv, BACKBONE_LISTEN: "127.0.0.1:0", BACKBONE_STORAGE_LISTEN: "127.0.0.1:0", BACKBONE_DATA_DIR: join(home, "data"), BACKBONE_LOG_LEVEL: "info" },
      home,
    );
    const daemon = await gw.stderr.waitForJson("the daemon's first start", (f) => fromSupervisor(f, "storage daemon listening"));
    const pid = daemon.pid as number;
    gw.child.kill("SIGKILL");
    await gw.exited;
    // Not our child: nothing to await but its disappearance. It checkpoints first, so allow time.
    await vi.waitFor(() => expect(isAlive(pid)).toBe(false), { timeout: 15_000, interval: 50 });
  });

  it("exits 1 with the variable named when the configuration is wrong", async () => {
    const home = dir("mdb-start-");
    const gw = startGatewayProcess({ ...upstreamEnv, BACKBONE_LISTEN: "everywhere", BACKBONE_DATA_DIR: join(home, "data") }, home);
    expect(await gw.exited).toEqual({ code: 1, signal: null });
    expect(gw.stderr.text()).toContain("BACKBONE_LISTEN");
  });

  it("exits 1 saying so when the data directory cannot be created", async () => {
    const home = dir("mdb-start-");
    const notADir = join(home, "file");
    writeFileSync(notADir, "");
    const gw = startGatewayProcess({ ...upstreamEnv, BACKBONE_LISTEN: "127.0.0.1:0", BACKBONE_STORAGE_LISTEN: "127.0.0.1:0", BACKBONE_DATA_DIR: join(notADir, "data") }, home);
    expect(await gw.exited).toEqual({ code: 1, signal: null });
    expect(gw.stderr.text()).toContain(`cannot create the data directory ${join(notADir, "data")}`);
    expect(gw.stdout.text()).toBe("");
  });

  it("gives up with the daemon's own complaint, exit 1, when the daemon cannot start at all", async () => {
    const home = dir("mdb-start-");
    // The gateway does not read this variable; the daemon rejects it at startup, every time.
    const gw = startGatewayProcess(
      { ...upstreamEnv, BACKBONE_LISTEN: "127.0.0.1:0", BACKBONE_STORAGE_LISTEN: "127.0.0.1:0", BACKBONE_DATA_DIR: join(home, "data"), BACKBONE_CACHE_TICKER_TTL_MS: "soon" },
      home,
    );
    expect(await gw.exited).toEqual({ code: 1, signal: null });
    const stderr = gw.stderr.text();
    expect(stderr).toMatch(/failed to start 3 times in a row \(last: exit code 1\)/);
    expect(stderr).toContain("BACKBONE_CACHE_TICKER_TTL_MS");
    expect(gw.stdout.text()).toBe("");
  });
});

/** The next event of `sidecar` that passes `test`. */
function nextEvent<T extends DaemonSidecarEvent["type"]>(sidecar: DaemonSidecar, type: T): Promise<Extract<DaemonSidecarEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = sidecar.on((event) => {
      if (event.type !== type) return;
      off();
      resolve(event as Extract<DaemonSidecarEvent, { type: T }>);
    });
  });
}

describe("storage daemon sidecar (the supervisor on its own)", () => {
  it("restarts a killed daemon on the same unix socket and reports each step", async () => {
    const home = dir("mdb-sidecar-");
    const socket = `unix:${join(home, "storage.sock")}`;
    const sidecar = startDaemonSidecar({ dataDir: join(home, "data"), listen: socket, log: silentLogger, env: { ...process.env, BACKBONE_LOG_LEVEL: "warn" } });
    try {
      expect(await sidecar.ready).toBe(socket);
      const firstPid = sidecar.pid!;
      expect(nodeFlagsOf(firstPid)).toEqual(expect.arrayContaining([...SERVER_NODE_FLAGS]));
      const exited = nextEvent(sidecar, "exited");
      const scheduled = nextEvent(sidecar, "restart-scheduled");
      const relistening = nextEvent(sidecar, "listening");
      process.kill(firstPid, "SIGKILL");
      expect(await exited).toMatchObject({ pid: firstPid, signal: "SIGKILL", listened: true, expected: false });
      expect(await scheduled).toMatchObject({ crashesInARow: 1 });
      const again = await relistening;
      expect(again.address).toBe(socket);
      expect(again.pid).not.toBe(firstPid);
      expect(sidecar.pid).toBe(again.pid);
      expect(nodeFlagsOf(again.pid)).toEqual(expect.arrayContaining([...SERVER_NODE_FLAGS]));
      const storage = createGrpcClient(StorageService, socket);
      try {
        await storage.stats({});
      } finally {
        storage.close();
      }

      const stopped = nextEvent(sidecar, "exited");
      await sidecar.stop();
      expect(await stopped).toMatchObject({ pid: again.pid, code: 0, expected: true });
      expect(isAlive(again.pid)).toBe(false);
      expect(sidecar.pid).toBeUndefined();
    } finally {
      sidecar.kill();
    }
  });
});
