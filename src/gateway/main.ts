import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { onStopSignals } from "../shared/stop-signals.js";
import { type GatewayConfig, loadGatewayConfig } from "./config.js";
import { startDaemonSidecar } from "./daemon-sidecar.js";
import { createGateway, type Gateway } from "./gateway.js";
import { type Observability, startObservability } from "./observability/observability.js";

// `npm start`: the storage daemon as a supervised sidecar, then the gateway against it. The
// gateway's address goes to stdout as one JSON line; logs go to stderr.

let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env);
} catch (e) {
  process.stderr.write(`gateway: ${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}
const log = createLogger("gateway", config.logLevel);
const sidecar = startDaemonSidecar({ dataDir: config.dataDir, listen: config.storageAddress, log });
let gateway: Gateway | undefined;
let observability: Observability | undefined;

const signals = onStopSignals(log, {
  force: () => sidecar.kill(),
  stop: async () => {
    await observability?.stop();
    await gateway?.stop().catch((e: unknown) => log.error("gateway stop failed", { error: e instanceof Error ? e.message : String(e) }));
    await sidecar.stop();
  },
});

await run();

async function run(): Promise<void> {
  let storageAddress: string;
  try {
    storageAddress = await sidecar.ready;
  } catch (e) {
    if (signals.isStopping()) return; // a signal came first; its shutdown exits
    process.stderr.write(`gateway: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  if (signals.isStopping()) return;
  gateway = createGateway({ ...config, storageAddress }, { log });
  try {
    const address = await gateway.start();
    if (config.metricsListen !== undefined) {
      try {
        observability = await startObservability({ deps: gateway.deps, metrics: gateway.metrics, eventLoop: gateway.eventLoop, listen: config.metricsListen, log });
      } catch (e) {
        process.stderr.write(`gateway: cannot serve metrics on ${config.metricsListen.host}:${config.metricsListen.port} (BACKBONE_METRICS_LISTEN): ${e instanceof Error ? e.message : String(e)}\n`);
        await gateway.stop();
        await sidecar.stop();
        process.exit(1);
      }
    }
    process.stdout.write(`${JSON.stringify({ event: "listening", address, storageAddress, metricsAddress: observability?.address })}\n`);
  } catch (e) {
    process.stderr.write(`gateway: cannot listen on ${config.listen}: ${e instanceof Error ? e.message : String(e)}\n`);
    await sidecar.stop();
    process.exit(1);
  }
}
