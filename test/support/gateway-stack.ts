/**
 * The whole product on loopback for end-to-end tests: the simulator (in this process, so tests
 * can compare against its exchange), the real storage daemon process on a temporary directory,
 * and the gateway (in this process) wired to both, plus a gRPC client of the public API.
 */
import { MarketDataService } from "../../src/gen/backbone/marketdata/v1/market_data_pb.js";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { createGateway, type Gateway } from "../../src/gateway/gateway.js";
import { UpbitRestClient } from "../../src/gateway/upstream/upbit-rest-client.js";
import { createGrpcClient, type GrpcClient } from "../../src/shared/grpc/client.js";
import { silentLogger } from "../../src/shared/logger.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../../src/upbit-sim/config.js";
import { createSimulator, type Simulator } from "../../src/upbit-sim/simulator.js";
import { type DaemonProcess, removeDir, startDaemon, stopDaemon, tempDir } from "./daemon-process.js";

export interface GroupTraffic {
  requests: number;
  rejected_429: number;
  max_per_second: number;
}

export interface Stack {
  readonly sim: Simulator;
  readonly restUrl: string;
  readonly wsUrl: string;
  /** The daemon process; replaced by `restartDaemon`. */
  daemon: DaemonProcess;
  readonly dataDir: string;
  readonly gateway: Gateway;
  /** The gateway's public gRPC address (`127.0.0.1:PORT`). */
  readonly address: string;
  readonly client: GrpcClient<typeof MarketDataService>;
  /** The simulator's per-group traffic counters (`/_sim/stats`). */
  traffic(): Promise<Record<string, GroupTraffic>>;
  /** Clears the simulator's counters and faults. */
  resetSim(): Promise<void>;
  setFaults(faults: Record<string, unknown>): Promise<void>;
  /** Stops the daemon (SIGTERM) and starts a new one on the same data directory and address. */
  restartDaemon(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Requests per second per group, on both the simulator and the gateway's limiter. Default 10 (Upbit's). */
  rateLimit?: number;
  /** The gateway limiter's own limit when it must differ from the simulator's (to provoke 429/418). */
  gatewayRateLimit?: number;
  /** Where the daemon listens; a unix socket lets a restarted daemon come back at the same address. */
  daemonListen?: string;
  /** Extra gateway environment (BACKBONE_*). */
  env?: Record<string, string>;
  /** Extra daemon environment (retention, maintenance timers). */
  daemonEnv?: Record<string, string>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const rateLimit = options.rateLimit ?? DEFAULT_SIMULATOR_CONFIG.rateLimit;
  const sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: 0, rateLimit });
  const { restUrl, wsUrl } = await sim.start();
  const dataDir = tempDir("mdb-stack-");
  const daemonEnv = options.daemonEnv ?? {};
  const daemon = await startDaemon(dataDir, { env: daemonEnv, ...(options.daemonListen === undefined ? {} : { listen: options.daemonListen }) });
  const config = loadGatewayConfig({
    BACKBONE_LISTEN: "127.0.0.1:0",
    BACKBONE_STORAGE_LISTEN: daemon.address,
    BACKBONE_DATA_DIR: dataDir,
    UPBIT_REST_URL: restUrl,
    UPBIT_WS_URL: wsUrl,
    ...options.env,
  });
  const upbit = new UpbitRestClient({
    baseUrl: restUrl,
    rateLimit: { limitPerSecond: options.gatewayRateLimit ?? rateLimit },
    retryWindowMs: config.upstreamRetryWindowMs,
    logger: silentLogger,
  });
  const gateway = createGateway(config, { log: silentLogger, upbit });
  const address = await gateway.start();
  const client = createGrpcClient(MarketDataService, address);
  const admin = async (path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${restUrl}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  const stack: Stack = {
    sim,
    restUrl,
    wsUrl,
    daemon,
    dataDir,
    gateway,
    address,
    client,
    traffic: async () => ((await admin("/_sim/stats")) as { groups: Record<string, GroupTraffic> }).groups,
    resetSim: async () => void (await admin("/_sim/reset", {})),
    setFaults: async (faults) => void (await admin("/_sim/faults", faults)),
    restartDaemon: async () => {
      await stopDaemon(stack.daemon);
      stack.daemon = await startDaemon(dataDir, { listen: stack.daemon.address, env: daemonEnv });
    },
    stop: async () => {
      client.close();
      await gateway.stop();
      await stopDaemon(stack.daemon);
      await sim.stop();
      removeDir(dataDir);
    },
  };
  return stack;
}
