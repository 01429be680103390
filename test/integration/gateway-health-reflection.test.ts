/**
 * The gateway's standard gRPC health service and server reflection, as grpcurl and load balancers
 * use them, and `npm run demo` bringing up all three processes' worth of product offline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Client, credentials, status } from "@grpc/grpc-js";
import { loadSync, type ServiceDefinition } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { createGateway, type Gateway } from "../../src/gateway/gateway.js";
import { silentLogger } from "../../src/shared/logger.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import { createSimulator, type Simulator } from "../../src/upbit-sim/simulator.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "../support/daemon-process.js";
import { healthCheck, PUBLIC_SERVICE } from "../support/health-client.js";

const HEALTH_SERVICE = "grpc.health.v1.Health";
const DEMO_MAIN = fileURLToPath(new URL("../../src/demo/main.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const REFLECTION_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve("@grpc/reflection")), "../proto");

/** The fields of a ServerReflectionResponse these tests read (proto field names, as loaded with keepCase). */
interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request on a reflection stream of `version`, as grpcurl sends it. */
async function reflect(address: string, version: "v1" | "v1alpha", request: Record<string, string>): Promise<ReflectionResponse> {
  const definitions = loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [REFLECTION_PROTO_DIR], keepCase: true });
  const method = (definitions[`grpc.reflection.${version}.ServerReflection`] as ServiceDefinition).ServerReflectionInfo!;
  const client = new Client(address, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
  try {
    const response = new Promise<ReflectionResponse>((resolve, reject) => {
      call.once("data", resolve);
      call.once("error", reject);
    });
    call.write(request);
    return await response;
  } finally {
    call.end();
    client.close();
  }
}

async function listedServices(address: string, version: "v1" | "v1alpha"): Promise<string[]> {
  const res = await reflect(address, version, { list_services: "" });
  return res.list_services_response!.service.map((s) => s.name);
}

async function fileDescriptorsOf(address: string, symbol: string): Promise<FileDescriptorProto[]> {
  const res = await reflect(address, "v1", { file_containing_symbol: symbol });
  return res.file_descriptor_response!.file_descriptor_proto.map((bytes) => fromBinary(FileDescriptorProtoSchema, new Uint8Array(bytes)));
}

describe("gateway health and reflection", () => {
  let sim: Simulator;
  let upstream: { restUrl: string; wsUrl: string };
  let dataDir: string;
  let daemon: DaemonProcess;
  let gateway: Gateway;
  let address: string;

  /** A gateway of its own on a free port, against the shared simulator and daemon. */
  const newGateway = () =>
    createGateway(
      loadGatewayConfig({
        BACKBONE_LISTEN: "127.0.0.1:0",
        BACKBONE_STORAGE_LISTEN: daemon.address,
        BACKBONE_DATA_DIR: dataDir,
        UPBIT_REST_URL: upstream.restUrl,
        UPBIT_WS_URL: upstream.wsUrl,
      }),
      { log: silentLogger },
    );

  beforeAll(async () => {
    sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0 });
    upstream = await sim.start();
    dataDir = tempDir("mdb-health-");
    daemon = await startDaemon(dataDir);
    gateway = newGateway();
    address = await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    if (daemon) await stopDaemon(daemon);
    await sim?.stop();
    if (dataDir) removeDir(dataDir);
  });

  it("reports SERVING for the server and the public service once listening, and NOT_FOUND for services it does not have", async () => {
    expect(await healthCheck(address, "")).toBe("SERVING");
    expect(await healthCheck(address, PUBLIC_SERVICE)).toBe("SERVING");
    await expect(healthCheck(address, "backbone.nothing.v1.Nothing")).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("lists the public service and health through reflection v1 and v1alpha", async () => {
    for (const version of ["v1", "v1alpha"] as const) {
      const services = await listedServices(address, version);
      expect(services).toContain(PUBLIC_SERVICE);
      expect(services).toContain(HEALTH_SERVICE);
    }
  });

  it("describes MarketDataService from proto/ with the .proto's own field names", async () => {
    const files = await fileDescriptorsOf(address, PUBLIC_SERVICE);
    const file = files.find((f) => f.package === "backbone.marketdata.v1" && f.service.some((s) => s.name === "MarketDataService"));
    expect(file).toBeDefined();
    const service = file!.service.find((s) => s.name === "MarketDataService")!;
    expect(service.method.map((m) => m.name)).toEqual(expect.arrayContaining(["ListMarkets", "GetCandles", "StreamTickers"]));
    const getCandles = service.method.find((m) => m.name === "GetCandles")!;
    expect(getCandles.inputType).toBe(".backbone.marketdata.v1.GetCandlesRequest");
    const request = file!.messageType.find((m) => m.name === "GetCandlesRequest")!;
    // grpcurl's JSON uses these names; camelCased ones would reject `{"start_ms": ...}`.
    expect(request.field.map((f) => f.name)).toEqual(expect.arrayContaining(["market", "timeframe", "count", "start_ms", "end_ms"]));
  });

  it("goes NOT_SERVING on stop and ends Watch streams, so they do not hold the shutdown open", async () => {
    const stopping = newGateway();
    const own = await stopping.start();
    const client = new Client(own, credentials.createInsecure());
    const watch = healthService.Watch!;
    const call = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, { service: PUBLIC_SERVICE });
    const statuses: string[] = [];
    const first = new Promise<void>((resolve) => call.once("data", () => resolve()));
    call.on("data", (m: { status: string }) => statuses.push(m.status));
    call.on("error", () => {}); // the code arrives through 'status'
    const ended = new Promise<number>((resolve) => call.once("status", (s: { code: number }) => resolve(s.code)));
    await first;

    await stopping.stop();
    expect(await ended).toBe(status.OK);
    client.close();
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
  });
});

interface DemoProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

describe("npm run demo", () => {
  it("starts simulator, daemon and gateway offline, prints what to try, serves health and reflection, and exits 0 on SIGINT", async () => {
    const home = tempDir("mdb-demo-");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BACKBONE_LISTEN: "127.0.0.1:0",
      BACKBONE_STORAGE_LISTEN: "127.0.0.1:0",
      BACKBONE_SIM_PORT: "0",
      BACKBONE_LOG_LEVEL: "info",
      BACKBONE_METRICS_LISTEN: "127.0.0.1:0",
    };
    delete env.BACKBONE_DATA_DIR; // the demo's default, under its working directory
    delete env.UPBIT_REST_URL;
    const child = spawn(process.execPath, ["--import", TSX, DEMO_MAIN], { cwd: home, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const demo: DemoProcess = {
      child,
      exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
      stdout: () => stdout,
      stderr: () => stderr,
    };
    try {
      // The instructions end with how to stop; everything before it has been printed by then.
      const lines = createInterface({ input: child.stdout! });
      await new Promise<void>((resolve, reject) => {
        lines.on("line", (line) => {
          stdout += `${line}\n`;
          if (line.includes("Ctrl-C stops all three")) resolve();
        });
        lines.on("close", () => reject(new Error(`the demo ended before its instructions:\n${stdout}\n${stderr}`)));
      });
      const listening = JSON.parse(stdout.split("\n")[0]!) as { event: string; address: string; storageAddress: string; simulator: string; metricsAddress: string };
      expect(listening.event).toBe("listening");
      const { address, simulator } = listening;
      expect(stdout).toContain(`grpcurl -plaintext ${address} list`);
      expect(stdout).toContain(`grpcurl -plaintext ${address} grpc.health.v1.Health/Check`);
      expect(stdout).toContain(
        `grpcurl -plaintext -d '{"market":"KRW-BTC","timeframe":"TIMEFRAME_MINUTE_1","count":5}' ${address} ${PUBLIC_SERVICE}/GetCandles`,
      );
      expect(stdout).toContain("README.md");
      // The status page is part of what a newcomer sees.
      expect(stdout).toContain(`status page (and /metrics)            http://${listening.metricsAddress}/`);
      const status = await fetch(`http://${listening.metricsAddress}/status.json`);
      expect(status.status).toBe(200);
      expect(await status.json()).toHaveProperty("rateBudget");

      expect(await healthCheck(address, "")).toBe("SERVING");
      expect(await listedServices(address, "v1")).toContain(PUBLIC_SERVICE);
      const markets = await fetch(`${simulator}/v1/market/all`);
      expect(markets.status).toBe(200);
      expect(existsSync(join(home, "data", "demo", "candles.duckdb"))).toBe(true);
      const daemonPid = daemonPidFrom(stderr);

      child.kill("SIGINT");
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(isAlive(daemonPid)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await demo.exited;
      removeDir(home);
    }
  });
});

/** The pid in the supervisor's "storage daemon listening" log line. */
function daemonPidFrom(stderr: string): number {
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    const fields = JSON.parse(line) as { component?: string; message?: string; pid?: number };
    if (fields.component === "demo" && fields.message === "storage daemon listening" && fields.pid !== undefined) return fields.pid;
  }
  throw new Error(`no daemon pid in the demo's log:\n${stderr}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
