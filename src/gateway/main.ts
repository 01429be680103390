import { ConfigError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { type GatewayConfig, loadGatewayConfig } from "./config.js";
import { startDaemonSidecar } from "./daemon-sidecar.js";
import { createGateway, type Gateway } from "./gateway.js";

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

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      sidecar.kill();
      process.exit(1);
    }
    stopping = true;
    log.info("stopping", { signal });
    void shutdown().then(() => process.exit(0));
  });
}

async function shutdown(): Promise<void> {
  if (gateway) {
    await gateway.stop().catch((e: unknown) => log.error("gateway stop failed", { error: e instanceof Error ? e.message : String(e) }));
  }
  await sidecar.stop();
}

await run();

async function run(): Promise<void> {
  let storageAddress: string;
  try {
    storageAddress = await sidecar.ready;
  } catch (e) {
    if (stopping) return; // a signal came first; its shutdown exits
    process.stderr.write(`gateway: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  if (stopping) return;
  gateway = createGateway({ ...config, storageAddress }, { log });
  try {
    const address = await gateway.start();
    process.stdout.write(`${JSON.stringify({ event: "listening", address, storageAddress })}\n`);
  } catch (e) {
    process.stderr.write(`gateway: cannot listen on ${config.listen}: ${e instanceof Error ? e.message : String(e)}\n`);
    await sidecar.stop();
    process.exit(1);
  }
}
