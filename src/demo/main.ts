import { loadGatewayConfig } from "../gateway/config.js";
import { startDaemonSidecar } from "../gateway/daemon-sidecar.js";
import { createGateway, type Gateway } from "../gateway/gateway.js";
import { type Observability, startObservability } from "../gateway/observability/observability.js";
import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { onStopSignals } from "../shared/stop-signals.js";
import { DEFAULT_SIMULATOR_CONFIG } from "../upbit-sim/config.js";
import { createSimulator } from "../upbit-sim/simulator.js";
import { loadDemoConfig } from "./demo-config.js";
import { tryNextText } from "./try-next.js";

// `npm run demo`: the Upbit simulator, the storage daemon (sidecar) and the gateway, all on this
// machine and offline. One JSON "listening" line on stdout for scripts, then instructions.

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
let observability: Observability | undefined;

const signals = onStopSignals(log, {
  force: () => sidecar?.kill(),
  stop: async () => {
    await observability?.stop();
    await gateway?.stop().catch((e: unknown) => log.error("gateway stop failed", { error: errorText(e) }));
    await sidecar?.stop();
    if (simulatorStarted) await sim.stop();
  },
});

await run();

async function run(): Promise<void> {
  let upstream: { restUrl: string; wsUrl: string };
  try {
    upstream = await sim.start();
    simulatorStarted = true;
  } catch (e) {
    fail(`the Upbit simulator cannot listen on port ${simPort} (${errorText(e)}); pick another with --sim-port or BACKBONE_SIM_PORT`);
  }
  if (signals.isStopping()) return;
  const config = loadGatewayConfig({ ...env, UPBIT_REST_URL: upstream.restUrl, UPBIT_WS_URL: upstream.wsUrl });
  sidecar = startDaemonSidecar({ dataDir: config.dataDir, listen: config.storageAddress, log, env });
  let storageAddress: string;
  try {
    storageAddress = await sidecar.ready;
  } catch (e) {
    if (signals.isStopping()) return; // a signal came first; its shutdown exits
    await sim.stop();
    fail(errorText(e));
  }
  if (signals.isStopping()) return;
  gateway = createGateway({ ...config, storageAddress }, { log });
  let address: string;
  try {
    address = await gateway.start();
  } catch (e) {
    await sidecar.stop();
    await sim.stop();
    fail(`the gateway cannot listen on ${config.listen} (${errorText(e)}); pick another with BACKBONE_LISTEN`);
  }
  if (config.metricsListen !== undefined) {
    try {
      observability = await startObservability({ deps: gateway.deps, metrics: gateway.metrics, eventLoop: gateway.eventLoop, listen: config.metricsListen, log });
    } catch (e) {
      // The demo is for looking around: it runs on without its status page rather than not at all.
      log.warn("no status page: cannot serve metrics", { listen: `${config.metricsListen.host}:${config.metricsListen.port}`, error: errorText(e) });
    }
  }
  const metricsAddress = observability?.address;
  process.stdout.write(`${JSON.stringify({ event: "listening", address, storageAddress, simulator: upstream.restUrl, metricsAddress })}\n`);
  process.stdout.write(tryNextText({ gateway: address, storage: storageAddress, dataDir, simulatorRestUrl: upstream.restUrl, metrics: metricsAddress }));
}
