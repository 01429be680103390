import { loadGatewayConfig } from "../gateway/config.js";
import { startDaemonSidecar } from "../gateway/daemon-sidecar.js";
import { createGateway, type Gateway } from "../gateway/gateway.js";
import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../upbit-sim/config.js";
import { createSimulator } from "../upbit-sim/simulator.js";
import { loadDemoConfig } from "./demo-config.js";
import { tryNextText } from "./try-next.js";

// `npm run demo`: the Upbit simulator, the storage daemon (sidecar) and the gateway, all on this
// machine and offline. One JSON "listening" line on stdout for scripts, then instructions.

/** How long calls in flight may take to finish on shutdown before the process exits under them. */
const GATEWAY_STOP_GRACE_MS = 10_000;

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let demo;
try {
  demo = loadDemoConfig(process.argv.slice(2), process.env);
  // Validates BACKBONE_* before anything starts; the Upbit URLs are filled in once the simulator listens.
  loadGatewayConfig(demo.env);
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e));
}
const { simPort, dataDir, env } = demo;
const logLevel = loadGatewayConfig(env).logLevel;
const log = createLogger("demo", logLevel);

const sim = createSimulator({ ...DEFAULT_SIMULATOR_CONFIG, port: simPort }, { log: createLogger("upbit-sim", logLevel) });
let simulatorStarted = false;
let sidecar: ReturnType<typeof startDaemonSidecar> | undefined;
let gateway: Gateway | undefined;

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      sidecar?.kill();
      process.exit(1);
    }
    stopping = true;
    log.info("stopping", { signal });
    void shutdown().then(() => process.exit(0));
  });
}

async function shutdown(): Promise<void> {
  if (gateway) {
    const stopped = gateway.stop().then(
      () => true,
      (e: unknown) => {
        log.error("gateway stop failed", { error: e instanceof Error ? e.message : String(e) });
        return true;
      },
    );
    const graceOver = new Promise<false>((resolve) => setTimeout(resolve, GATEWAY_STOP_GRACE_MS, false).unref());
    if (!(await Promise.race([stopped, graceOver]))) log.warn("calls still in flight after the grace period; they end with the process");
  }
  await sidecar?.stop();
  if (simulatorStarted) await sim.stop();
}

await run();

async function run(): Promise<void> {
  let upstream: { restUrl: string; wsUrl: string };
  try {
    upstream = await sim.start();
    simulatorStarted = true;
  } catch (e) {
    fail(`the Upbit simulator cannot listen on port ${simPort} (${errorText(e)}); pick another with --sim-port or BACKBONE_SIM_PORT`);
  }
  if (stopping) return;
  const config = loadGatewayConfig({ ...env, UPBIT_REST_URL: upstream.restUrl, UPBIT_WS_URL: upstream.wsUrl });
  sidecar = startDaemonSidecar({ dataDir: config.dataDir, listen: config.storageAddress, log, env });
  let storageAddress: string;
  try {
    storageAddress = await sidecar.ready;
  } catch (e) {
    if (stopping) return; // a signal came first; its shutdown exits
    await sim.stop();
    fail(errorText(e));
  }
  if (stopping) return;
  gateway = createGateway({ ...config, storageAddress }, { log });
  let address: string;
  try {
    address = await gateway.start();
  } catch (e) {
    await sidecar.stop();
    await sim.stop();
    fail(`the gateway cannot listen on ${config.listen} (${errorText(e)}); pick another with BACKBONE_LISTEN`);
  }
  process.stdout.write(`${JSON.stringify({ event: "listening", address, storageAddress, simulator: upstream.restUrl })}\n`);
  process.stdout.write(tryNextText({ gateway: address, storage: storageAddress, dataDir, simulatorRestUrl: upstream.restUrl }));
}
